// Rows are never appended to a target table that already holds rows: a non-empty target table
// is a precheck error naming it and its row count, unless --if-exists truncate (kept, emptied
// once per task, checkpointed) or --if-exists drop (recreated). Target account: no superuser.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { exitCodeFor } from '../../src/cli/exit.js';
import { PgferryError } from '../../src/core/errors.js';
import { validateTask } from '../../src/core/config.js';
import { EventBus } from '../../src/core/events.js';
import { migrate } from '../../src/engine/runner.js';
import { tableHashes, withClient } from '../helpers/compare.js';

let srv: Cluster;
const stateDir = mkdtempSync(join(tmpdir(), 'pgferry-ifexists-'));
const SCHEMA = `
  CREATE TABLE nokey (x int, y text);
  CREATE TABLE keyed (id int NOT NULL, v text);
  CREATE UNIQUE INDEX keyed_id ON keyed (id);`;

before(async () => {
  srv = await startCluster({ version: 15, name: 'pgferry-ifexists' });
  await withClient(srv.url(), async (c) => {
    await c.query(`CREATE ROLE mover LOGIN`);
    await c.query(`CREATE DATABASE src`);
    for (const m of ['skip', 'error', 'truncate', 'drop']) await c.query(`CREATE DATABASE t_${m} OWNER mover`);
  });
  await withClient(srv.url('src'), (c) =>
    c.query(`${SCHEMA}
    INSERT INTO nokey SELECT g % 5, 'n' || g FROM generate_series(1, 50) g;
    INSERT INTO keyed SELECT g, 'k' || g FROM generate_series(1, 30) g;`),
  );
  for (const m of ['skip', 'error', 'truncate', 'drop']) {
    // an earlier, partial load: some of the same rows, and one the source does not have
    await withClient(srv.url(`t_${m}`, 'mover'), (c) =>
      c.query(`${SCHEMA}
      INSERT INTO nokey SELECT g % 5, 'n' || g FROM generate_series(1, 7) g;
      INSERT INTO keyed SELECT g, 'k' || g FROM generate_series(1, 3) g; INSERT INTO keyed VALUES (999, 'stale');`),
    );
  }
});
after(async () => {
  await srv?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

const task = (mode: string) =>
  validateTask({
    name: `ie-${mode}`,
    source: srv.url('src'),
    target: srv.url(`t_${mode}`, 'mover'),
    stateDir,
    ifExists: mode,
    noOwner: true,
    noAcl: true,
    verify: 'count',
  });

for (const mode of ['skip', 'error'] as const) {
  test(`--if-exists ${mode}: target tables holding rows are a precheck error naming them and their row counts`, async () => {
    const before = await tableHashes(srv.url(`t_${mode}`));
    await assert.rejects(migrate(task(mode), { events: new EventBus() }), (e: unknown) => {
      assert.ok(e instanceof PgferryError && e.kind === 'precheck', String(e));
      assert.equal(exitCodeFor(e), 4);
      assert.match(
        e.message,
        /conflicts\.rows: 2 target tables already hold rows \(public\.keyed: 4 row\(s\), public\.nokey: 7 row\(s\)\)/,
      );
      return true;
    });
    assert.deepEqual(await tableHashes(srv.url(`t_${mode}`)), before, 'nothing written');
  });
}

test('--if-exists truncate: tables kept and emptied once per task, then equal to the source', async () => {
  const url = srv.url('t_truncate', 'mover');
  const oid = () =>
    withClient(url, (c) => c.query<{ o: string }>(`SELECT 'keyed'::regclass::oid::text AS o`)).then((r) => r.rows[0].o);
  const before = await oid();
  const r = await migrate(task('truncate'), { events: new EventBus() });
  assert.equal(r.verify?.ok, true);
  assert.deepEqual(await tableHashes(srv.url('t_truncate')), await tableHashes(srv.url('src')));
  assert.equal(await oid(), before, 'the table was kept');
  const marks = await withClient(url, (c) =>
    c.query<{ k: string }>(`SELECT object_key AS k FROM pgferry.object WHERE kind = 'truncate' ORDER BY 1`),
  );
  assert.deepEqual(
    marks.rows.map((x) => x.k),
    ['truncate public.keyed', 'truncate public.nokey'],
  );
  // a rerun of the task does not empty the tables again
  await withClient(url, (c) => c.query(`INSERT INTO nokey VALUES (-1, 'added after the run')`));
  await migrate(task('truncate'), { events: new EventBus() });
  const n = await withClient(url, (c) => c.query<{ n: string }>(`SELECT count(*)::text AS n FROM nokey`));
  assert.equal(n.rows[0].n, '51');
});

test('--if-exists drop: tables dropped and recreated, then equal to the source', async () => {
  const r = await migrate(task('drop'), { events: new EventBus() });
  assert.equal(r.verify?.ok, true);
  assert.deepEqual(await tableHashes(srv.url('t_drop')), await tableHashes(srv.url('src')));
});

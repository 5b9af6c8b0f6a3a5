// Incremental migration: the copy reads the slot's own snapshot and the stream applies every change
// after it exactly once — inserts, updates (a key change too), deletes, truncate, an unchanged TOAST
// value, a table without a key (REPLICA IDENTITY FULL), and a row committed between slot and copy.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cluster } from '../../src/dev/embedded/cluster.js';
import { validateTask } from '../../src/core/config.js';
import { EventBus, type TimedEvent } from '../../src/core/events.js';
import { migrate } from '../../src/engine/runner.js';
import { tableHashes, withClient } from '../helpers/compare.js';
import { logicalCluster, stopAt } from './helpers.js';

let pg15: Cluster;
const stateDir = mkdtempSync(join(tmpdir(), 'pgferry-cdc-state-'));

before(async () => {
  pg15 = await logicalCluster();
  await withClient(pg15.url(), async (c) => {
    await c.query('CREATE ROLE ferry_src LOGIN REPLICATION');
    await c.query('CREATE ROLE ferry_tgt LOGIN');
    await c.query('CREATE DATABASE src OWNER ferry_src');
    await c.query('CREATE DATABASE tgt OWNER ferry_tgt');
  });
  await withClient(pg15.url('src', 'ferry_src'), (c) =>
    c.query(`
      CREATE TABLE item (id int PRIMARY KEY, label text, doc text, price numeric(10,2), tags text[], at timestamptz);
      ALTER TABLE item ALTER doc SET STORAGE EXTERNAL;
      INSERT INTO item SELECT g, 'l' || g, CASE WHEN g = 1 THEN repeat(md5('x'), 400) END, g * 1.5, ARRAY['a', 'b'], now()
        FROM generate_series(1, 200) g;
      CREATE TABLE bag (v text, n int);
      ALTER TABLE bag REPLICA IDENTITY FULL;
      INSERT INTO bag VALUES ('dup', 1), ('dup', 1), ('one', 2);
      CREATE TABLE scratch (id serial PRIMARY KEY, x jsonb);
      INSERT INTO scratch (x) SELECT jsonb_build_object('g', g) FROM generate_series(1, 5) g;`),
  );
});

after(async () => {
  await pg15?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

async function changesDuringApply(url: string): Promise<void> {
  await withClient(url, (c) =>
    c.query(`
      UPDATE item SET label = 'toast kept' WHERE id = 1;
      UPDATE item SET id = 1000 WHERE id = 2;
      DELETE FROM item WHERE id BETWEEN 10 AND 19;
      INSERT INTO item SELECT g, 'new', NULL, 0, '{}', now() FROM generate_series(300, 320) g;
      BEGIN; UPDATE item SET price = price + 1 WHERE id < 100; INSERT INTO item VALUES (999, 'in txn'); COMMIT;
      DELETE FROM bag WHERE v = 'dup';
      INSERT INTO bag VALUES ('dup', 1), (NULL, 3);
      UPDATE bag SET n = 5 WHERE v = 'one';
      TRUNCATE scratch;
      INSERT INTO scratch (x) VALUES ('{"after": "truncate"}');`),
  );
}

test('incremental: copy in the slot snapshot, then every change applied exactly once', async () => {
  const source = pg15.url('src', 'ferry_src');
  const target = pg15.url('tgt', 'ferry_tgt');
  const task = validateTask({
    name: 'inc',
    source,
    target,
    stateDir,
    incremental: true,
    noOwner: true,
    noAcl: true,
    verify: 'hash',
  });
  const events = new EventBus();
  const seen: TimedEvent[] = [];
  let between: Promise<unknown> | undefined;
  let during: Promise<unknown> | undefined;
  events.on((e) => {
    seen.push(e);
    // The slot exists and the copy has not read a row yet: this row must come through the stream only.
    if (e.type === 'snapshot' && !between)
      between = withClient(source, (c) => c.query(`INSERT INTO item VALUES (-1, 'between')`));
    if (e.type === 'phase-start' && e.phase === 'cdc') {
      during = (async () => {
        await between;
        await changesDuringApply(source);
        await stopAt(source, target, 'inc');
      })();
    }
  });
  const result = await migrate(task, { events });
  await during;
  assert.ok(result.verify?.ok, JSON.stringify(result.verify));
  assert.deepEqual(await tableHashes(target), await tableHashes(source));
  const rows = await withClient(target, async (c) => ({
    between: (await c.query('SELECT count(*)::int AS n FROM item WHERE id = -1')).rows[0].n,
    toast: (await c.query(`SELECT label, length(doc) AS len FROM item WHERE id = 1`)).rows[0],
    bag: (await c.query(`SELECT count(*)::int AS n FROM bag WHERE v = 'dup'`)).rows[0].n,
  }));
  assert.deepEqual(rows, { between: 1, toast: { label: 'toast kept', len: 12800 }, bag: 1 });
  assert.ok(
    seen.some((e) => e.type === 'cdc-lag'),
    'lag events are emitted',
  );
});

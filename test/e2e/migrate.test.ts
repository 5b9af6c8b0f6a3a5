// End-to-end `migrate` on real servers: 12 → 17 and 15 → 15 of the sample shop database.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { sampleDatabaseSql } from '../../src/dev/demo/sample.js';
import { validateTask } from '../../src/core/config.js';
import { EventBus, type TimedEvent } from '../../src/core/events.js';
import { migrate } from '../../src/engine/runner.js';
import { verify } from '../../src/stages/verify/index.js';
import { PgferryError } from '../../src/core/errors.js';
import { exitCodeFor } from '../../src/cli/exit.js';
import { dumpSchema, schemaFingerprint, tableHashes, withClient } from '../helpers/compare.js';

const clusters: Record<number, Cluster> = {};
const stateDir = mkdtempSync(join(tmpdir(), 'pgferry-e2e-state-'));

before(async () => {
  const [a, b, c] = await Promise.all([
    startCluster({ version: 12 }),
    startCluster({ version: 15 }),
    startCluster({ version: 17 }),
  ]);
  clusters[12] = a;
  clusters[15] = b;
  clusters[17] = c;
});
after(async () => {
  await Promise.all(Object.values(clusters).map((c) => c.stop()));
  rmSync(stateDir, { recursive: true, force: true });
});

async function setup(src: Cluster, tgt: Cluster, srcDb: string, tgtDb: string): Promise<void> {
  await withClient(src.url(), (c) => c.query(`CREATE DATABASE ${srcDb}`));
  await withClient(tgt.url(), (c) => c.query(`CREATE DATABASE ${tgtDb}`));
  await withClient(src.url(srcDb), (c) => c.query(sampleDatabaseSql(0.2)));
}

for (const [from, to] of [
  [12, 17],
  [15, 15],
] as const) {
  test(`migrate ${from} → ${to}: every row equal, schema equal, order respected`, async () => {
    const src = clusters[from];
    const tgt = clusters[to];
    const db = `shop_${from}_${to}`;
    const tdb = `${db}_target`;
    await setup(src, tgt, db, tdb);
    const events = new EventBus();
    const seen: TimedEvent[] = [];
    events.on((e) => seen.push(e));
    const task = validateTask({
      name: db,
      source: src.url(db),
      target: tgt.url(tdb),
      jobs: 3,
      stateDir,
      verify: 'count',
    });
    const result = await migrate(task, { events });

    assert.deepEqual(await tableHashes(tgt.url(tdb)), await tableHashes(src.url(db)));
    assert.deepEqual(await schemaFingerprint(tgt.url(tdb)), await schemaFingerprint(src.url(db)));
    if (from === to) assert.equal(dumpSchema(tgt.url(tdb)), dumpSchema(src.url(db)));
    assert.equal(result.verify?.ok, true);
    // content hashes agree across the two major versions too
    const hashed = await verify(task, { mode: 'hash' });
    assert.equal(hashed.ok, true, JSON.stringify(hashed.tables.filter((t) => !t.ok)));
    // nothing needed a retry: in particular, a table's constraint attachments do not deadlock
    assert.deepEqual(
      seen.filter((e) => e.type === 'retry'),
      [],
    );

    // DTS order: all data lands before any foreign key or trigger is created.
    const idx = (pred: (e: TimedEvent) => boolean) => seen.findIndex(pred);
    const lastTableDone = seen.map((e) => e.type === 'table-done').lastIndexOf(true);
    const firstFk = idx(
      (e) =>
        e.type === 'object' &&
        e.action === 'created' &&
        (e.kind === 'foreign key' || e.kind === 'trigger' || e.section === 'late'),
    );
    assert.ok(lastTableDone > 0 && firstFk > lastTableDone, 'foreign keys and triggers come after the data');

    // sequences continue where the source left off
    const next = await withClient(tgt.url(tdb), (c) =>
      c.query<{ id: string }>(`INSERT INTO shop.orders (customer_id, placed_at) VALUES (1, now()) RETURNING id`),
    );
    const max = await withClient(src.url(db), (c) =>
      c.query<{ m: string }>(`SELECT max(id)::text AS m FROM shop.orders`),
    );
    assert.equal(BigInt(next.rows[0].id), BigInt(max.rows[0].m) + 1n);
  });
}

test('a failing precheck stops migrate before anything is written to the target (exit code 4)', async () => {
  const src = clusters[15];
  const tgt = clusters[17];
  await setup(src, tgt, 'shop_blocked', 'shop_blocked_target');
  // a conflicting table on the target blocks the start
  await withClient(tgt.url('shop_blocked_target'), (c) =>
    c.query('CREATE SCHEMA shop; CREATE TABLE shop.orders (x int)'),
  );
  const catalog = `SELECT n.nspname, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1, 2`;
  const before = await withClient(tgt.url('shop_blocked_target'), (c) => c.query(catalog));
  const task = validateTask({
    name: 'blocked',
    source: src.url('shop_blocked'),
    target: tgt.url('shop_blocked_target'),
    stateDir,
  });
  await assert.rejects(migrate(task, { events: new EventBus() }), (e: unknown) => {
    assert.ok(e instanceof PgferryError && e.kind === 'precheck', String(e));
    assert.match((e as Error).message, /conflicts\.target/);
    assert.equal(exitCodeFor(e), 4);
    return true;
  });
  const afterRows = await withClient(tgt.url('shop_blocked_target'), (c) => c.query(catalog));
  assert.deepEqual(afterRows.rows, before.rows);
  const ns = await withClient(tgt.url('shop_blocked_target'), (c) =>
    c.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'pgferry'`),
  );
  assert.equal(ns.rowCount, 0, 'no checkpoint schema before the precheck passes');
});

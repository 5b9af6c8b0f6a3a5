// The object picker (POST /api/catalog) as a SELECT-only account on a database in use: a table the
// application holds under ACCESS EXCLUSIVE (a long ALTER TABLE, VACUUM FULL, LOCK TABLE), and one
// waiting for such a lock, must not hang the picker: it answers, with every table, the locked ones'
// estimates from the statistics PostgreSQL keeps in its catalog (no lock taken). A partitioned table
// shows the rows and bytes of its partitions.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { startServer, type RunningServer } from '../../src/server/app.js';
import { withClient } from '../helpers/compare.js';
import { passwordHba, sourceAccount } from '../embed/accounts.js';
import { apiClient } from '../server/helpers.js';

let cluster: Cluster;
let server: RunningServer;
let srcUrl: string;
const held: pg.Client[] = [];
const dataDir = mkdtempSync(join(tmpdir(), 'pgferry-audit-picker-'));

before(async () => {
  cluster = await startCluster({ version: 15, name: 'pgferry-audit-picker', hba: passwordHba(['pick_src']) });
  await withClient(cluster.url(), (c) => c.query('CREATE DATABASE shop'));
  await withClient(cluster.url('shop'), (c) =>
    c.query(`CREATE SCHEMA app;
      CREATE TABLE app.busy (id int PRIMARY KEY, note text);
      INSERT INTO app.busy SELECT g, 'n' || g FROM generate_series(1, 5000) g;
      CREATE TABLE app.queued (id int);
      INSERT INTO app.queued SELECT generate_series(1, 700);
      CREATE TABLE app.calm (id int);
      INSERT INTO app.calm SELECT generate_series(1, 300);
      CREATE TABLE app.parted (id int, k int) PARTITION BY LIST (k);
      CREATE TABLE app.parted_a PARTITION OF app.parted FOR VALUES IN (1);
      CREATE TABLE app.parted_b PARTITION OF app.parted FOR VALUES IN (2, 3) PARTITION BY LIST (k);
      CREATE TABLE app.parted_b2 PARTITION OF app.parted_b FOR VALUES IN (2);
      CREATE TABLE app.parted_b3 PARTITION OF app.parted_b FOR VALUES IN (3);
      INSERT INTO app.parted SELECT g, 1 + g % 3 FROM generate_series(1, 900) g;
      ANALYZE;`),
  );
  srcUrl = await sourceAccount(cluster, 'shop', 'pick_src', 'Pick-src-pw-2718', ['app']);
  server = await startServer({ port: 0, dataDir, log: () => {} });
});

after(async () => {
  for (const c of held) await c.end().catch(() => {});
  await server?.close();
  await cluster?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function session(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: cluster.url('shop') });
  await c.connect();
  held.push(c);
  return c;
}

test('a table locked ACCESS EXCLUSIVE (and one with such a lock waiting) does not hang the picker', async () => {
  // the application: one session holds app.busy; another holds a read lock on app.queued that an
  // ALTER TABLE waits behind (every later reader of app.queued queues behind that ALTER)
  const locker = await session();
  await locker.query('BEGIN; LOCK TABLE app.busy IN ACCESS EXCLUSIVE MODE');
  const reader = await session();
  await reader.query('BEGIN; SELECT count(*) FROM app.queued');
  const alter = await session();
  const waiting = alter.query('ALTER TABLE app.queued ADD COLUMN x int').catch(() => {});
  await withClient(cluster.url('shop'), async (c) => {
    for (let i = 0; i < 100; i++) {
      const r = await c.query(`SELECT 1 FROM pg_locks WHERE relation = 'app.queued'::regclass AND NOT granted`);
      if (r.rowCount) return;
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.fail('the ALTER TABLE did not start waiting');
  });
  const answer = apiClient(server).call('POST', '/api/catalog', { connection: srcUrl });
  const hung = new Promise<'hung'>((res) => setTimeout(() => res('hung'), 20_000).unref());
  const cat = await Promise.race([answer, hung]);
  // let the application go (a hung catalog query then finishes too)
  await locker.query('ROLLBACK');
  await reader.query('ROLLBACK');
  await waiting;
  assert.notEqual(cat, 'hung', 'the picker waited for the application’s locks');
  if (cat === 'hung') return;
  assert.equal(cat.status, 200, cat.text);
  const app = cat.body.schemas.find((s: { name: string }) => s.name === 'app');
  const tables = Object.fromEntries(
    app.tables.map((t: { name: string; rowEstimate: number; columns: unknown[] }) => [
      t.name,
      [t.rowEstimate, t.columns.length],
    ]),
  );
  assert.deepEqual(tables, {
    busy: [5000, 2],
    calm: [300, 1],
    parted: [900, 2],
    parted_a: [300, 2],
    parted_b: [600, 2],
    parted_b2: [300, 2],
    parted_b3: [300, 2],
    queued: [700, 1],
  });
});

test("a partitioned table shows its partitions' rows and bytes (at every level), not 0", async () => {
  const cat = await apiClient(server).call('POST', '/api/catalog', { connection: srcUrl });
  assert.equal(cat.status, 200, cat.text);
  const app = cat.body.schemas.find((s: { name: string }) => s.name === 'app');
  const t = (name: string) => app.tables.find((x: { name: string }) => x.name === name);
  const rows = Object.fromEntries(
    ['parted', 'parted_a', 'parted_b', 'parted_b2', 'parted_b3'].map((n) => [n, t(n).rowEstimate]),
  );
  assert.deepEqual(rows, { parted: 900, parted_a: 300, parted_b: 600, parted_b2: 300, parted_b3: 300 });
  assert.equal(t('parted').bytes, t('parted_a').bytes + t('parted_b2').bytes + t('parted_b3').bytes);
  assert.equal(t('parted_b').kind, 'partitioned table');
});

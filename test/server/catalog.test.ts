// The object picker's catalog (POST /api/catalog) as a SELECT-only account: a table never analyzed
// (autovacuum off, so it stays so) shows the row estimate the copy's progress totals use — a guess
// from its size, near its real count — not reltuples' 0; an analyzed table shows its statistics.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { startServer, type RunningServer } from '../../src/server/app.js';
import { tableSizes } from '../../src/stages/data/plan/units.js';
import type { CopyTable } from '../../src/stages/data/plan/types.js';
import { withClient } from '../helpers/compare.js';
import { passwordHba, sourceAccount } from '../embed/accounts.js';
import { apiClient } from './helpers.js';

let pg: Cluster;
let server: RunningServer;
let srcUrl: string;
const dataDir = mkdtempSync(join(tmpdir(), 'pgferry-catalog-'));

before(async () => {
  pg = await startCluster({ version: 15, name: 'pgferry-catalog', hba: passwordHba(['cat_src']) });
  await withClient(pg.url(), (c) => c.query('CREATE DATABASE shop'));
  await withClient(pg.url('shop'), (c) =>
    c.query(`CREATE SCHEMA app;
      CREATE TABLE app.fresh (id int, note text) WITH (autovacuum_enabled = false);
      INSERT INTO app.fresh SELECT g, 'n' || g FROM generate_series(1, 20000) g;
      CREATE TABLE app.known (id int) WITH (autovacuum_enabled = false);
      INSERT INTO app.known SELECT generate_series(1, 3000);
      ANALYZE app.known;`),
  );
  srcUrl = await sourceAccount(pg, 'shop', 'cat_src', 'Cat-src-pw-5150', ['app']);
  server = await startServer({ port: 0, dataDir, log: () => {} });
});

after(async () => {
  await server?.close();
  await pg?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test("a never-analyzed table's row estimate is the copy's page-based one, not 0", async () => {
  const never = await withClient(pg.url('shop'), (c) =>
    c.query(`SELECT reltuples FROM pg_class WHERE oid = 'app.fresh'::regclass`),
  );
  assert.equal(Number(never.rows[0].reltuples), -1, 'the table has no statistics');
  const cat = await apiClient(server).call('POST', '/api/catalog', { connection: srcUrl });
  assert.equal(cat.status, 200, cat.text);
  const app = cat.body.schemas.find((s: { name: string }) => s.name === 'app');
  const fresh = app.tables.find((t: { name: string }) => t.name === 'fresh');
  const known = app.tables.find((t: { name: string }) => t.name === 'known');
  assert.ok(fresh.rowEstimate > 10_000 && fresh.rowEstimate < 40_000, `estimate ${fresh.rowEstimate} for 20,000 rows`);
  assert.equal(known.rowEstimate, 3000, 'statistics when there are some');
  // the very estimate the copy's progress totals use, read as the same account
  const table = (name: string) =>
    ({ key: `app.${name}`, source: { schema: 'app', name }, target: { schema: 'app', name } }) as unknown as CopyTable;
  const sizes = await withClient(srcUrl, (c) => tableSizes(c, [table('fresh'), table('known')]));
  assert.equal(fresh.rowEstimate, sizes.get('app.fresh')?.estRows);
  assert.equal(known.rowEstimate, sizes.get('app.known')?.estRows);
});

/**
 * The copy's progress total (table-start and progress events' estRows) against a real PostgreSQL 15,
 * read by a least-privilege source account: a filtered table counts the planner's estimate of the
 * rows its filter lets through (EXPLAIN inside the run's snapshot), not the whole table; a table
 * never analyzed counts a guess from its size, not 0; an analyzed one its reltuples.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { copyData } from '../../src/stages/data/copy/engine.js';
import { resolveConnSpec } from '../../src/pg/connstring.js';
import { EventBus, type TimedEvent } from '../../src/core/events.js';
import { passwordHba, sourceAccount, targetAccount } from '../embed/accounts.js';
import { copyDefaults, copyTable, sql } from './helpers.js';

let pg: Cluster;
let srcUrl: string;
let tgtUrl: string;

const cols = [
  { name: 'id', type: 'integer' },
  { name: 'note', type: 'text' },
];

before(async () => {
  pg = await startCluster({ version: 15, name: 'pgferry-estimate', hba: passwordHba(['est_src', 'est_tgt']) });
  await sql(pg.url(), 'CREATE DATABASE s');
  await sql(
    pg.url('s'),
    `CREATE SCHEMA app;
     CREATE TABLE app.orders (id int PRIMARY KEY, note text) WITH (autovacuum_enabled = off);
     INSERT INTO app.orders SELECT g, md5(g::text) FROM generate_series(1, 20000) g;
     ANALYZE app.orders;
     CREATE TABLE app.whole (id int PRIMARY KEY, note text) WITH (autovacuum_enabled = off);
     INSERT INTO app.whole SELECT g, md5(g::text) FROM generate_series(1, 3000) g;
     ANALYZE app.whole;
     CREATE TABLE app.fresh (id int PRIMARY KEY, note text) WITH (autovacuum_enabled = off);
     INSERT INTO app.fresh SELECT g, md5(g::text) FROM generate_series(1, 5000) g;`,
  );
  srcUrl = await sourceAccount(pg, 's', 'est_src', 'Est-src-pw-3141', ['app']);
  tgtUrl = await targetAccount(pg, 't', 'est_tgt', 'Est-tgt-pw-2718');
  await sql(
    tgtUrl,
    `CREATE SCHEMA app;
     CREATE TABLE app.orders (id int, note text);
     CREATE TABLE app.whole (id int, note text);
     CREATE TABLE app.fresh (id int, note text);`,
  );
});

after(async () => {
  await pg?.stop();
});

const copy = (taskId: string, tables: ReturnType<typeof copyTable>[], events: EventBus) =>
  copyData({
    source: resolveConnSpec(srcUrl),
    target: resolveConnSpec(tgtUrl),
    taskId,
    tables,
    early: [],
    sequences: [],
    jobs: 2,
    indexJobs: 1,
    copy: copyDefaults,
    events,
  });

test('progress total: the filtered table’s planned rows, a never-analyzed table’s size-based guess', async () => {
  const never = await sql(pg.url('s'), `SELECT reltuples FROM pg_class WHERE oid = 'app.fresh'::regclass`);
  assert.equal(Number(never.rows[0].reltuples), -1, 'app.fresh has no statistics');
  const events = new EventBus();
  const seen: TimedEvent[] = [];
  events.on((e) => seen.push(e));
  const tables = [
    copyTable('app', 'orders', cols, true, { where: 'id <= 2000' }),
    copyTable('app', 'whole', cols, true),
    copyTable('app', 'fresh', cols, true),
  ];
  const r = await copy('estimate', tables, events);
  const rows = Object.fromEntries(r.tables.map((t) => [t.key, t.rows]));
  assert.deepEqual(rows, { 'app.orders': 2000, 'app.whole': 3000, 'app.fresh': 5000 });

  const est = new Map<string, number>();
  for (const e of seen) if (e.type === 'table-start') est.set(e.table, e.estRows);
  const orders = est.get('app.orders')!;
  const fresh = est.get('app.fresh')!;
  // the planner's estimates, near the truth (2,000 and 5,000): never the full 20,000, never 0
  assert.ok(orders >= 1000 && orders <= 4000, `filtered app.orders estimated at ${orders} rows`);
  assert.ok(fresh >= 2500 && fresh <= 10000, `never-analyzed app.fresh estimated at ${fresh} rows`);
  assert.equal(est.get('app.whole'), 3000, 'an analyzed table counts its reltuples');
  const progress = seen.filter((e) => e.type === 'progress');
  assert.ok(progress.length > 0, 'progress events');
  const last = progress.at(-1)!;
  assert.equal(last.type === 'progress' && last.estRows, orders + 3000 + fresh, 'the total adds the estimates');
});

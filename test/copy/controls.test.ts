/**
 * Live controls handed to the engine: paused, no unit starts and no row lands; resumed, the
 * copy completes exact. The pump follows a live jobs change.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { Controls } from '../../src/stages/data/copy/controls.js';
import { copyData } from '../../src/stages/data/copy/engine.js';
import { resolveConnSpec } from '../../src/pg/connstring.js';
import { EventBus, type TimedEvent } from '../../src/core/events.js';
import { copyDefaults, copyTable, sql, tableDigest } from './helpers.js';

let pg: Cluster;

before(async () => {
  pg = await startCluster({ version: 15, name: 'pgferry-ctl' });
  await sql(pg.url(), `CREATE DATABASE s`);
  await sql(pg.url(), `CREATE DATABASE t`);
  await sql(
    pg.url('s'),
    `
    CREATE TABLE a (id int, pad text);
    INSERT INTO a SELECT g, md5(g::text) FROM generate_series(1, 30000) g;
    CREATE TABLE b (id int, pad text);
    INSERT INTO b SELECT g, 'b' || g FROM generate_series(1, 5000) g;`,
  );
  await sql(pg.url('t'), `CREATE TABLE a (id int, pad text); CREATE TABLE b (id int, pad text);`);
});

after(async () => {
  await pg?.stop();
});

test('paused controls hold back every unit; resumed, the copy completes exact', async () => {
  const cols = [
    { name: 'id', type: 'integer' },
    { name: 'pad', type: 'text' },
  ];
  const tables = [copyTable('public', 'a', cols, false), copyTable('public', 'b', cols, false)];
  const controls = new Controls({ jobs: 2 });
  controls.set({ paused: true });
  const events = new EventBus();
  const seen: TimedEvent[] = [];
  events.on((e) => seen.push(e));
  const run = copyData({
    source: resolveConnSpec(pg.url('s')),
    target: resolveConnSpec(pg.url('t')),
    taskId: 'paused',
    tables,
    early: [],
    sequences: [],
    jobs: 2,
    indexJobs: 1,
    copy: { ...copyDefaults, splitThresholdMB: 0.5, unitMB: 0.5 },
    events,
    controls,
  });
  const started = () => seen.some((e) => e.type === 'snapshot');
  for (let i = 0; i < 100 && !started(); i++) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 1500));
  assert.ok(
    seen.some((e) => e.type === 'snapshot'),
    'the run started',
  );
  assert.deepEqual(
    seen.filter((e) => e.type === 'table-start' || e.type === 'unit-done'),
    [],
  );
  const landed = await sql(pg.url('t'), 'SELECT (SELECT count(*) FROM a) + (SELECT count(*) FROM b) AS n');
  assert.equal(landed.rows[0].n, '0');
  controls.set({ paused: false, jobs: 1 });
  const r = await run;
  assert.deepEqual(
    r.tables.map((t) => [t.key, t.rows]),
    [
      ['public.a', 30000],
      ['public.b', 5000],
    ],
  );
  assert.ok(r.tables[0].units > 1, `a is split (${r.tables[0].units} units)`);
  for (const t of ['a', 'b']) assert.deepEqual(await tableDigest(pg.url('t'), t), await tableDigest(pg.url('s'), t));
  const thr = seen.filter((e) => e.type === 'throttle');
  assert.deepEqual(
    thr.map((e) => e.type === 'throttle' && e.jobs),
    [1],
  );
  assert.ok(seen.some((e) => e.type === 'log' && /data copy resumed/.test(e.message)));
});

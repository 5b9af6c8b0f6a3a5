/**
 * ctid splitting covers every row of a table with holes (deletes, updates that moved rows to
 * later blocks, vacuumed space refilled by later inserts), with a row filter, column subset and
 * renames; throttling holds rows/s; text format across majors (17 → 15).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { copyData } from '../../src/stages/data/copy/engine.js';
import { resolveConnSpec } from '../../src/pg/connstring.js';
import { EventBus, type TimedEvent } from '../../src/core/events.js';
import { StateDir } from '../../src/state/state-dir.js';
import { copyDefaults, copyTable, sql, tableDigest } from './helpers.js';

let src: Cluster;
let tgt: Cluster;

before(async () => {
  [src, tgt] = await Promise.all([
    startCluster({ version: 17, name: 'pgferry-copys' }),
    startCluster({ version: 15, name: 'pgferry-copys' }),
  ]);
  await sql(src.url(), `CREATE DATABASE s`);
  await sql(
    src.url('s'),
    `
    CREATE TABLE holes (id int PRIMARY KEY, v text, n numeric, ts timestamptz) WITH (autovacuum_enabled = off);
    INSERT INTO holes SELECT g, md5(g::text), g / 7.0, '2024-01-01'::timestamptz + g * interval '1 min' FROM generate_series(1, 60000) g;
    DELETE FROM holes WHERE id % 3 = 0;
    UPDATE holes SET v = v || '-moved' WHERE id % 10 = 1;`,
  );
  await sql(src.url('s'), `VACUUM holes`);
  await sql(
    src.url('s'),
    `
    INSERT INTO holes SELECT g, 'refill', NULL, NULL FROM generate_series(60001, 64000) g;
    CREATE TABLE "Odd Name" (id int, "Secret" text, keep text);
    INSERT INTO "Odd Name" SELECT g, 'secret' || g, 'k' || g FROM generate_series(1, 20000) g;
    CREATE TABLE rate (id int, pad text);
    INSERT INTO rate SELECT g, 'p' FROM generate_series(1, 60000) g;`,
  );
  await sql(tgt.url(), `CREATE DATABASE t`);
  await sql(
    tgt.url('t'),
    `
    CREATE TABLE holes (id int, v text, n numeric, ts timestamptz);
    CREATE TABLE "Renamed" (ident int, keep text);
    CREATE TABLE rate (id int, pad text);`,
  );
});

after(async () => {
  await Promise.all([src?.stop(), tgt?.stop()]);
});

test('ctid ranges cover every row of a table with holes; filter, subset and rename apply', async () => {
  const holes = copyTable(
    'public',
    'holes',
    [
      { name: 'id', type: 'integer' },
      { name: 'v', type: 'text' },
      { name: 'n', type: 'numeric' },
      { name: 'ts', type: 'timestamp with time zone' },
    ],
    true,
  );
  const odd = {
    ...copyTable(
      'public',
      'Odd Name',
      [
        { name: 'id', type: 'integer', target: 'ident' },
        { name: 'keep', type: 'text' },
      ],
      false,
    ),
    target: { schema: 'public', name: 'Renamed' },
    where: 'id % 2 = 0',
  };
  const events = new EventBus();
  const seen: TimedEvent[] = [];
  events.on((e) => seen.push(e));
  const r = await copyData({
    source: resolveConnSpec(src.url('s')),
    target: resolveConnSpec(tgt.url('t')),
    taskId: 'split',
    tables: [holes, odd],
    early: [],
    sequences: [],
    jobs: 2,
    indexJobs: 1,
    copy: { ...copyDefaults, splitThresholdMB: 0.2, unitMB: 0.1 },
    events,
  });
  assert.equal(r.format, 'text');
  const h = r.tables.find((t) => t.key === 'public.holes')!;
  assert.ok(h.units >= 20, `holes split into ${h.units} units`);
  assert.equal(h.rows, 44000);
  assert.deepEqual(await tableDigest(tgt.url('t'), 'holes'), await tableDigest(src.url('s'), 'holes'));
  assert.deepEqual(
    await tableDigest(tgt.url('t'), '"Renamed"', 'ident, keep'),
    await tableDigest(src.url('s'), '(SELECT * FROM "Odd Name" WHERE id % 2 = 0)', 'id, keep'),
  );
  const units = seen.filter((e) => e.type === 'unit-done').length;
  assert.equal(
    units,
    r.tables.reduce((a, t) => a + t.units, 0),
  );
  assert.ok(seen.some((e) => e.type === 'table-done' && e.table === 'public.holes'));
});

test('throttle holds rows/s within 20%, and control.json changes it live', async () => {
  const rate = copyTable(
    'public',
    'rate',
    [
      { name: 'id', type: 'integer' },
      { name: 'pad', type: 'text' },
    ],
    false,
  );
  const root = mkdtempSync(join(tmpdir(), 'pgferry-ctl-'));
  try {
    const state = new StateDir(root, 'rate');
    state.ensure();
    const events = new EventBus();
    const seen: TimedEvent[] = [];
    events.on((e) => seen.push(e));
    let firstRows = 0;
    let t0 = 0;
    const rates: number[] = [];
    events.on((e) => {
      if (e.type === 'table-start') t0 = Date.now();
      if (e.type === 'progress' && t0 && firstRows === 0 && e.rows > 0) firstRows = e.rows;
    });
    // 60000 rows at 20000 rows/s: ~3 s
    const start = Date.now();
    const r = await copyData({
      source: resolveConnSpec(src.url('s')),
      target: resolveConnSpec(tgt.url('t')),
      taskId: 'rate',
      tables: [rate],
      early: [],
      sequences: [],
      jobs: 2,
      indexJobs: 1,
      copy: { ...copyDefaults, splitThresholdMB: 0.5, unitMB: 0.5, maxRowsPerSec: 20000 },
      events,
      state,
    });
    const secs = (Date.now() - Math.max(t0, start)) / 1000;
    const measured = r.tables[0].rows / secs;
    rates.push(measured);
    assert.equal(r.tables[0].rows, 60000);
    assert.ok(measured > 16000 && measured < 24000, `measured ${Math.round(measured)} rows/s`);

    // live change: start at 10000 rows/s, raise to 60000 after ~1 s
    await sql(tgt.url('t'), 'TRUNCATE rate');
    writeFileSync(state.path('control.json'), JSON.stringify({ maxRowsPerSec: 10000 }));
    setTimeout(
      () => writeFileSync(state.path('control.json'), JSON.stringify({ maxRowsPerSec: 60000, jobs: 1 })),
      1200,
    );
    const seen2: TimedEvent[] = [];
    const ev2 = new EventBus();
    ev2.on((e) => seen2.push(e));
    const s2 = Date.now();
    const r2 = await copyData({
      source: resolveConnSpec(src.url('s')),
      target: resolveConnSpec(tgt.url('t')),
      taskId: 'rate2',
      tables: [rate],
      early: [],
      sequences: [],
      jobs: 2,
      indexJobs: 1,
      copy: { ...copyDefaults, splitThresholdMB: 0.5, unitMB: 0.5, maxRowsPerSec: 10000 },
      events: ev2,
      state,
    });
    const secs2 = (Date.now() - s2) / 1000;
    assert.equal(r2.tables[0].rows, 60000);
    const thr = seen2.filter((e) => e.type === 'throttle');
    assert.ok(
      thr.some((e) => e.type === 'throttle' && e.maxRowsPerSec === 60000 && e.jobs === 1),
      JSON.stringify(thr),
    );
    // all at 10000 rows/s would take 6 s
    assert.ok(secs2 < 4.5, `took ${secs2}s after raising the limit`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

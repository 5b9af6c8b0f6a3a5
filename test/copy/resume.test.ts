/**
 * Exact resume: a copy SIGKILLed mid-unit and rerun gives the same rows (no duplicates, no
 * gaps) for tables with and without a primary key; pgferry backends terminated mid-copy on
 * source and target are retried and the run completes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { copyData } from '../../src/stages/data/copy/engine.js';
import { resolveConnSpec } from '../../src/pg/connstring.js';
import { EventBus, type TimedEvent } from '../../src/core/events.js';
import { copyDefaults, copyTable, early, runChild, sql, tableDigest } from './helpers.js';

let src: Cluster;
let tgt: Cluster;

const pkT = copyTable(
  'public',
  'pk_t',
  [
    { name: 'id', type: 'integer' },
    { name: 'v', type: 'text' },
    { name: 'b', type: 'bytea' },
  ],
  true,
);
const nopkT = copyTable(
  'public',
  'nopk_t',
  [
    { name: 'a', type: 'integer' },
    { name: 'v', type: 'text' },
  ],
  false,
);
const smallT = copyTable(
  'public',
  'small_t',
  [
    { name: 'id', type: 'bigint' },
    { name: 'j', type: 'jsonb' },
  ],
  true,
);

const DDL = `
CREATE TABLE pk_t (id int, v text, b bytea);
CREATE TABLE nopk_t (a int, v text);
CREATE TABLE small_t (id bigserial, j jsonb);`;

before(async () => {
  [src, tgt] = await Promise.all([
    startCluster({ version: 15, name: 'pgferry-copyr' }),
    startCluster({ version: 15, name: 'pgferry-copyr' }),
  ]);
  await sql(src.url(), `CREATE DATABASE s`);
  await sql(
    src.url('s'),
    DDL.replace('id int,', 'id int PRIMARY KEY,') +
      `
    INSERT INTO pk_t SELECT g, repeat(md5(g::text), 3), decode(md5(g::text), 'hex') FROM generate_series(1, 150000) g;
    INSERT INTO nopk_t SELECT g % 1000, repeat('x', g % 50) FROM generate_series(1, 150000) g;
    INSERT INTO nopk_t SELECT a, v FROM nopk_t WHERE a < 10;
    INSERT INTO small_t (j) SELECT jsonb_build_object('k', g) FROM generate_series(1, 500) g;
    ANALYZE;`,
  );
});

after(async () => {
  await Promise.all([src?.stop(), tgt?.stop()]);
});

async function freshTarget(db: string) {
  await sql(tgt.url(), `CREATE DATABASE ${db}`);
  await sql(tgt.url(db), DDL);
}

function baseArgs(db: string, taskId: string) {
  return {
    source: src.url('s'),
    target: tgt.url(db),
    taskId,
    tables: [pkT, nopkT, smallT],
    // as the DDL generator emits keys: CREATE UNIQUE INDEX, then ADD CONSTRAINT … USING INDEX (must wait for it)
    early: [
      early(pkT, 'index public.pk_t_pkey', 'CREATE UNIQUE INDEX pk_t_pkey ON public.pk_t (id)'),
      early(pkT, 'index public.pk_t_v_idx', 'CREATE INDEX pk_t_v_idx ON public.pk_t (v)'),
      early(
        pkT,
        'constraint public.pk_t_pkey',
        'ALTER TABLE public.pk_t ADD CONSTRAINT pk_t_pkey PRIMARY KEY USING INDEX pk_t_pkey',
        'constraint',
      ),
      early(nopkT, 'index public.nopk_t_a_idx', 'CREATE INDEX nopk_t_a_idx ON public.nopk_t (a)'),
    ],
    sequences: [
      { source: { schema: 'public', name: 'small_t_id_seq' }, target: { schema: 'public', name: 'small_t_id_seq' } },
    ],
    jobs: 2,
    indexJobs: 2,
    copy: { ...copyDefaults, splitThresholdMB: 2, unitMB: 2 },
  };
}

async function assertSame(db: string) {
  for (const t of ['pk_t', 'nopk_t', 'small_t']) {
    assert.deepEqual(await tableDigest(tgt.url(db), t), await tableDigest(src.url('s'), t), `table ${t}`);
  }
  const seq = await sql(tgt.url(db), `SELECT last_value::text FROM small_t_id_seq`);
  assert.equal(seq.rows[0].last_value, '500');
}

test('SIGKILL mid-unit, rerun: exact rows with and without a primary key', async () => {
  await freshTarget('t_kill');
  const args = baseArgs('t_kill', 'kill');
  // slow enough that the kill lands inside a unit
  const slow = { ...args, copy: { ...args.copy, maxBytesPerSec: 4_000_000 } };
  let unitsBefore = 0;
  const first = await runChild(slow, (e, kill) => {
    if (e.type === 'unit-done' && ++unitsBefore === 3) setTimeout(kill, 150);
  });
  assert.equal(first.signal, 'SIGKILL');
  const doneBefore = await sql(tgt.url('t_kill'), `SELECT table_name, count(*)::int AS n FROM pgferry.unit GROUP BY 1`);
  const before = new Map<string, number>(doneBefore.rows.map((r) => [r.table_name, r.n]));
  assert.ok([...before.values()].reduce((a, n) => a + n, 0) >= 3);
  const second = await runChild(args, () => {});
  type Table = { key: string; skippedUnits: number; units: number; recopied: boolean };
  type Result = { tables: Table[]; snapshotFresh: boolean };
  const result = second.events.find((e) => e.type === 'result') as unknown as Result;
  assert.ok(result, 'second run finished');
  // The killed run's snapshot is gone: tables it finished are skipped, a table it cut mid-copy is recopied whole.
  for (const t of result.tables) {
    const n = before.get(t.key) ?? 0;
    const expected = n === t.units ? [t.units, false] : [0, n > 0];
    assert.deepEqual([t.skippedUnits, t.recopied], expected, `${t.key}: ${n} of ${t.units} units done before`);
  }
  assert.ok(
    result.tables.some((t) => t.recopied),
    'a table cut mid-copy was recopied',
  );
  assert.ok(result.tables.find((t) => t.key === 'public.pk_t')!.units > 1, 'pk_t was split');
  const finishedBefore = result.tables.some((t) => t.skippedUnits === t.units);
  assert.equal(result.snapshotFresh, finishedBefore);
  await assertSame('t_kill');
  const idx = await sql(
    tgt.url('t_kill'),
    `SELECT count(*)::int AS n FROM pg_indexes WHERE tablename IN ('pk_t', 'nopk_t')`,
  );
  assert.equal(idx.rows[0].n, 3);
  const pk = await sql(
    tgt.url('t_kill'),
    `SELECT count(*)::int AS n FROM pg_constraint WHERE conname = 'pk_t_pkey' AND contype = 'p'`,
  );
  assert.equal(pk.rows[0].n, 1);
  // a third run has nothing left to do
  const third = await runChild(args, () => {});
  const r3 = third.events.find((e) => e.type === 'result') as unknown as {
    tables: { skippedUnits: number; units: number }[];
  };
  assert.ok(r3.tables.every((t) => t.skippedUnits === t.units));
  await assertSame('t_kill');
});

test('pg_terminate_backend of pgferry sessions on source and target: retried to completion', async () => {
  await freshTarget('t_term');
  const a = baseArgs('t_term', 'term');
  const events = new EventBus();
  const seen: TimedEvent[] = [];
  let killed = false;
  let units = 0;
  const killAll = async () => {
    const q = `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name LIKE 'pgferry%' AND pid <> pg_backend_pid()`;
    const [s, t] = await Promise.all([sql(src.url(), q), sql(tgt.url(), q)]);
    return s.rows[0].n + t.rows[0].n;
  };
  let nKilled = 0;
  events.on((e) => {
    seen.push(e);
    if (e.type === 'unit-done' && ++units === 2 && !killed) {
      killed = true;
      void killAll().then((n) => (nKilled = n));
    }
  });
  const r = await copyData({
    ...a,
    source: resolveConnSpec(a.source),
    target: resolveConnSpec(a.target),
    copy: { ...a.copy, maxBytesPerSec: 6_000_000 },
    events,
  });
  assert.ok(killed && nKilled > 2, `terminated ${nKilled} sessions`);
  assert.ok(r.retries > 0, 'retried');
  assert.ok(seen.some((e) => e.type === 'retry'));
  const ids = new Set(seen.map((e) => (e.type === 'snapshot' ? e.snapshot : '')).filter(Boolean));
  assert.ok(ids.size > 1, 'snapshot replaced after its holder was terminated');
  await assertSame('t_term');
});

/**
 * Resume after the snapshot is gone, on real servers (15 → 15): a split table whose done units
 * came from another snapshot is emptied and recopied whole (rows move between blocks when they
 * are updated, deleted and vacuumed, so old ctid ranges mean nothing), tables finished earlier
 * stay and are named; a side session renewing the snapshot warns of nothing. The resume paths
 * run as a source account with CONNECT/USAGE/SELECT only and a target account that owns the
 * target database and is no superuser.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { copyData, type CopyOptions, type CopyResult } from '../../src/stages/data/copy/engine.js';
import { resolveConnSpec } from '../../src/pg/connstring.js';
import { EventBus, type TimedEvent } from '../../src/core/events.js';
import { buildReport, renderMarkdown, renderSummary } from '../../src/stages/report/index.js';
import { summariseEvents, renderStatus, type TaskStatus } from '../../src/stages/report/status.js';
import type { CopyTable } from '../../src/stages/data/plan/types.js';
import { copyDefaults, copyTable, early, runChild, sql, tableDigest } from './helpers.js';

let src: Cluster;
let tgt: Cluster;
const SRC_PW = 'src-Secr3t';
const TGT_PW = 'tgt-Secr3t';

const TABLE_DDL = (name: string, pk: boolean) =>
  `CREATE TABLE ${name} (id int${pk ? ' PRIMARY KEY' : ''}, v text) WITH (autovacuum_enabled = off, fillfactor = 100);`;
const FILL = (name: string) =>
  `INSERT INTO ${name} SELECT g, repeat(md5(g::text), 2) FROM generate_series(1, 40000) g;`;

before(async () => {
  const hba = ['host all ferry_src,ferry_tgt all scram-sha-256'];
  [src, tgt] = await Promise.all([
    startCluster({ version: 15, name: 'pgferry-recopy', hba }),
    startCluster({ version: 15, name: 'pgferry-recopy', hba }),
  ]);
  await sql(src.url(), `CREATE ROLE ferry_src LOGIN PASSWORD '${SRC_PW}'`);
  await sql(tgt.url(), `CREATE ROLE ferry_tgt LOGIN PASSWORD '${TGT_PW}'`);
});

after(async () => {
  await Promise.all([src?.stop(), tgt?.stop()]);
});

/** A source database readable by ferry_src, and a target database owned by ferry_tgt with the tables. */
async function databases(db: string, ddl: string, fill: string): Promise<{ s: string; t: string }> {
  await sql(src.url(), `CREATE DATABASE ${db}`);
  await sql(
    src.url(db),
    `${ddl} ${fill} ANALYZE;
    GRANT USAGE ON SCHEMA public TO ferry_src; GRANT SELECT ON ALL TABLES IN SCHEMA public TO ferry_src;
    GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO ferry_src;`,
  );
  await sql(tgt.url(), `CREATE DATABASE ${db} OWNER ferry_tgt`);
  await sql(tgt.url(db, 'ferry_tgt', TGT_PW), ddl.replace(/PRIMARY KEY/g, ''));
  return { s: src.url(db, 'ferry_src', SRC_PW), t: tgt.url(db, 'ferry_tgt', TGT_PW) };
}

type Run = { r?: CopyResult; error?: unknown; seen: TimedEvent[] };

async function copy(
  urls: { s: string; t: string },
  taskId: string,
  tables: CopyTable[],
  extra: Partial<CopyOptions> = {},
  onEvent?: (e: TimedEvent, abort: () => void) => void,
): Promise<Run> {
  const events = new EventBus();
  const seen: TimedEvent[] = [];
  const ac = new AbortController();
  events.on((e) => {
    seen.push(e);
    onEvent?.(e, () => ac.abort());
  });
  try {
    const r = await copyData({
      source: resolveConnSpec(urls.s),
      target: resolveConnSpec(urls.t),
      taskId,
      tables,
      early: [],
      sequences: [],
      jobs: 1,
      indexJobs: 1,
      copy: { ...copyDefaults, splitThresholdMB: 0.5, unitMB: 0.25 },
      events,
      signal: ac.signal,
      ...extra,
    });
    return { r, seen };
  } catch (error) {
    return { error, seen };
  }
}

/** Stop the run once `n` units are done. */
const stopAfter = (n: number) => {
  let units = 0;
  return (e: TimedEvent, abort: () => void) => {
    if (e.type === 'unit-done' && ++units === n) abort();
  };
};

/**
 * Rows move between blocks: early rows updated (new versions at the end), others deleted,
 * VACUUM, late rows updated into the freed space.
 */
async function moveRows(url: string, table: string): Promise<void> {
  await sql(url, `UPDATE ${table} SET v = v || '#' WHERE id <= 3000`);
  await sql(url, `DELETE FROM ${table} WHERE id > 3000 AND id <= 6000`);
  await sql(url, `VACUUM ${table}`);
  await sql(url, `UPDATE ${table} SET v = v || '@' WHERE id > 30000`);
}

async function blocksMoved(url: string, table: string): Promise<number> {
  const r = await sql(url, `SELECT count(*)::int AS n FROM ${table} WHERE id > 30000 AND (ctid::text::point)[0] < 96`);
  return r.rows[0].n;
}

const messages = (seen: TimedEvent[]) =>
  seen.filter((e) => e.type === 'log' && e.level === 'warn').map((e) => (e.type === 'log' ? e.message : ''));

test('rerun after the run ended, rows moved: half-copied tables recopied whole, exact with/without a key', async () => {
  const ddl = TABLE_DDL('mv_pk', true) + TABLE_DDL('mv_nopk', false) + 'CREATE TABLE done_t (id int, v text);';
  const fill = FILL('mv_pk') + FILL('mv_nopk') + `INSERT INTO done_t SELECT g, 'd' FROM generate_series(1, 500) g;`;
  const urls = await databases('r_end', ddl, fill);
  const pk = copyTable(
    'public',
    'mv_pk',
    [
      { name: 'id', type: 'integer' },
      { name: 'v', type: 'text' },
    ],
    true,
  );
  const nopk = copyTable(
    'public',
    'mv_nopk',
    [
      { name: 'id', type: 'integer' },
      { name: 'v', type: 'text' },
    ],
    false,
  );
  const done = copyTable(
    'public',
    'done_t',
    [
      { name: 'id', type: 'integer' },
      { name: 'v', type: 'text' },
    ],
    false,
  );
  const pkEarly = [
    early(pk, 'index public.mv_pk_pkey', 'CREATE UNIQUE INDEX mv_pk_pkey ON public.mv_pk (id)'),
    early(
      pk,
      'constraint public.mv_pk_pkey',
      'ALTER TABLE public.mv_pk ADD CONSTRAINT mv_pk_pkey PRIMARY KEY USING INDEX mv_pk_pkey',
      'constraint',
    ),
  ];

  // earlier runs: done_t finished; mv_pk and mv_nopk 3 units each, every run in its own snapshot
  const first = await copy(urls, 'end', [done]);
  assert.ok(first.r, String(first.error));
  for (const t of [pk, nopk]) {
    // two jobs: a table alone is split only when it is larger than its share of the work
    const part = await copy(urls, 'end', [t], { early: t === pk ? pkEarly : [], jobs: 2 }, stopAfter(3));
    assert.equal((part.error as Error)?.name, 'AbortError', String(part.error));
    await moveRows(src.url('r_end'), t.source.name);
    assert.ok(
      (await blocksMoved(src.url('r_end'), t.source.name)) > 100,
      'late rows moved into the copied block range',
    );
  }
  const doneBefore = await sql(
    tgt.url('r_end'),
    `SELECT table_name, count(*)::int AS n FROM pgferry.unit GROUP BY 1 ORDER BY 1`,
  );
  assert.deepEqual(
    doneBefore.rows.map((r) => [r.table_name, r.n >= 3 && r.n <= 4 ? 'part' : r.n]),
    [
      ['public.done_t', 1],
      ['public.mv_nopk', 'part'],
      ['public.mv_pk', 'part'],
    ],
  );

  const rerun = await copy(urls, 'end', [pk, nopk, done], { early: pkEarly, jobs: 2 });
  assert.ok(rerun.r, String(rerun.error));
  for (const t of ['mv_pk', 'mv_nopk', 'done_t']) {
    assert.deepEqual(await tableDigest(tgt.url('r_end'), t), await tableDigest(src.url('r_end'), t), `table ${t}`);
  }
  const byKey = new Map(rerun.r.tables.map((t) => [t.key, t]));
  assert.equal(byKey.get('public.mv_pk')!.recopied, true);
  assert.equal(byKey.get('public.mv_nopk')!.recopied, true);
  assert.equal(byKey.get('public.mv_pk')!.skippedUnits, 0);
  assert.deepEqual([byKey.get('public.done_t')!.recopied, byKey.get('public.done_t')!.skippedUnits], [false, 1]);
  assert.equal(rerun.r.snapshotFresh, true);
  const recopies = rerun.seen.flatMap((e) => (e.type === 'table-recopy' ? [[e.table, e.discardedUnits]] : []));
  const partial = Object.fromEntries(doneBefore.rows.map((r) => [r.table_name, r.n]));
  assert.deepEqual(recopies.sort(), [
    ['public.mv_nopk', partial['public.mv_nopk']],
    ['public.mv_pk', partial['public.mv_pk']],
  ]);
  const warns = messages(rerun.seen);
  assert.ok(
    warns.some((w) => /table public\.mv_pk is recopied whole/.test(w)),
    warns.join('\n'),
  );
  assert.ok(
    warns.some((w) => /earlier snapshot.*: public\.done_t\b.*verify --mode hash/s.test(w)),
    warns.join('\n'),
  );
  // every unit of a recopied table comes from one snapshot; the primary key was built
  const lineages = await sql(
    tgt.url('r_end'),
    `SELECT table_name, count(DISTINCT snapshot)::int AS n FROM pgferry.unit GROUP BY 1 ORDER BY 1`,
  );
  assert.ok(
    lineages.rows.every((r) => r.n === 1),
    JSON.stringify(lineages.rows),
  );
  const con = await sql(
    tgt.url('r_end'),
    `SELECT count(*)::int AS n FROM pg_constraint WHERE conname = 'mv_pk_pkey' AND contype = 'p'`,
  );
  assert.equal(con.rows[0].n, 1);
  const text = JSON.stringify(rerun.seen);
  assert.ok(!text.includes(SRC_PW) && !text.includes(TGT_PW), 'no password in events');

  // the report and `status` name the recopied tables
  const report = buildReport({ taskId: 'end', source: urls.s, target: urls.t, events: [...first.seen, ...rerun.seen] });
  assert.deepEqual(report.recopiedTables.map((t) => t.table).sort(), ['public.mv_nopk', 'public.mv_pk']);
  assert.match(renderMarkdown(report), /## Recopied tables[\s\S]*public\.mv_pk/);
  assert.ok(!renderMarkdown(report).includes(TGT_PW));
  assert.match(renderSummary(report), /recopied whole .*public\.mv_pk/);
  const st = summariseEvents(rerun.seen);
  assert.deepEqual([...st.recopied].sort(), ['public.mv_nopk', 'public.mv_pk']);
  assert.match(renderStatus({ ...emptyStatus(), ...st }), /recopied whole.*public\.mv_nopk, public\.mv_pk/);
});

test('holder and copy sessions terminated mid-run after rows moved: recopied from the new snapshot', async () => {
  const urls = await databases('r_mid', TABLE_DDL('mid', true), FILL('mid'));
  const mid = copyTable(
    'public',
    'mid',
    [
      { name: 'id', type: 'integer' },
      { name: 'v', type: 'text' },
    ],
    true,
  );
  const midEarly = [early(mid, 'index public.mid_pkey', 'CREATE UNIQUE INDEX mid_pkey ON public.mid (id)')];
  let units = 0;
  let killed: Promise<number> | undefined;
  const kill = async () => {
    await sql(src.url('r_mid'), `UPDATE mid SET v = v || '#' WHERE id <= 3000`);
    await sql(src.url('r_mid'), `DELETE FROM mid WHERE id > 3000 AND id <= 6000`);
    const r = await sql(
      src.url(),
      `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
      WHERE application_name LIKE 'pgferry%' AND backend_type = 'client backend'`,
    );
    return r.rows[0].n as number;
  };
  const slow = { ...copyDefaults, splitThresholdMB: 0.5, unitMB: 0.25, maxBytesPerSec: 1_500_000 };
  const run = await copy(urls, 'mid', [mid], { early: midEarly, jobs: 2, copy: slow }, (e) => {
    if (e.type === 'unit-done' && ++units === 4) killed = kill();
  });
  assert.ok(run.r, String(run.error));
  assert.ok(((await killed) ?? 0) >= 2, 'holder and copy sessions terminated');
  assert.deepEqual(await tableDigest(tgt.url('r_mid'), 'mid'), await tableDigest(src.url('r_mid'), 'mid'));
  assert.equal(run.r.tables[0].recopied, true);
  assert.ok(run.seen.some((e) => e.type === 'table-recopy' && e.table === 'public.mid'));
  assert.ok(
    messages(run.seen).some((w) => /source snapshot changed/.test(w)),
    messages(run.seen).join('\n'),
  );
  const idx = await sql(tgt.url('r_mid'), `SELECT count(*)::int AS n FROM pg_indexes WHERE indexname = 'mid_pkey'`);
  assert.equal(idx.rows[0].n, 1);
});

test('SIGKILL while a table is recopied: target rows always match its checkpoints, the rerun is exact', async () => {
  const urls = await databases('r_crash', TABLE_DDL('cr', true), FILL('cr'));
  const cr = copyTable(
    'public',
    'cr',
    [
      { name: 'id', type: 'integer' },
      { name: 'v', type: 'text' },
    ],
    true,
  );
  const crEarly = [early(cr, 'index public.cr_pkey', 'CREATE UNIQUE INDEX cr_pkey ON public.cr (id)')];
  const part = await copy(urls, 'crash', [cr], { early: crEarly, jobs: 2 }, stopAfter(3));
  assert.equal((part.error as Error)?.name, 'AbortError', String(part.error));
  await moveRows(src.url('r_crash'), 'cr');
  const args = {
    source: urls.s,
    target: urls.t,
    taskId: 'crash',
    tables: [cr],
    early: crEarly,
    sequences: [],
    jobs: 2,
    indexJobs: 1,
    copy: { ...copyDefaults, splitThresholdMB: 0.5, unitMB: 0.25, maxBytesPerSec: 2_000_000 },
  };
  let after = 0;
  let recopying = false;
  const killed = await runChild(args, (e, kill) => {
    if (e.type === 'table-recopy') recopying = true;
    if (recopying && e.type === 'unit-done' && ++after === 2) kill();
  });
  assert.equal(killed.signal, 'SIGKILL');
  assert.ok(recopying, 'the table was being recopied when killed');
  const state = await sql(
    tgt.url('r_crash'),
    `SELECT (SELECT count(*) FROM cr)::int AS n,
      (SELECT coalesce(sum(rows), 0) FROM pgferry.unit WHERE table_name = 'public.cr')::int AS checkpointed,
      (SELECT count(DISTINCT snapshot) FROM pgferry.unit WHERE table_name = 'public.cr')::int AS snapshots`,
  );
  assert.deepEqual(state.rows[0].n, state.rows[0].checkpointed, 'target rows are exactly the checkpointed units');
  assert.equal(state.rows[0].snapshots, 1);
  const rerun = await runChild({ ...args, copy: { ...args.copy, maxBytesPerSec: null } }, () => {});
  assert.ok(
    rerun.events.some((e) => e.type === 'result'),
    'rerun finished',
  );
  assert.ok(
    rerun.events.some((e) => e.type === 'table-recopy'),
    "the killed run's snapshot is gone: recopied again",
  );
  assert.deepEqual(await tableDigest(tgt.url('r_crash'), 'cr'), await tableDigest(src.url('r_crash'), 'cr'));
});

test('only the sequence read renews the snapshot: no snapshot warning, sequence set', async () => {
  await sql(src.url(), `CREATE DATABASE r_seq`);
  await sql(
    src.url('r_seq'),
    `CREATE TABLE st (id bigserial, v text); INSERT INTO st (v) SELECT 'x' FROM generate_series(1, 300);`,
  );
  await sql(tgt.url(), `CREATE DATABASE r_seq`);
  await sql(tgt.url('r_seq'), `CREATE TABLE st (id bigserial, v text);`);
  const st = copyTable(
    'public',
    'st',
    [
      { name: 'id', type: 'bigint' },
      { name: 'v', type: 'text' },
    ],
    false,
  );
  let killed: Promise<unknown> | undefined;
  const run = await copy(
    { s: src.url('r_seq'), t: tgt.url('r_seq') },
    'seq',
    [st],
    {
      // the table's "index build" outlasts the holder's termination, so the sequence read finds it gone
      early: [early(st, 'sleep public.st', 'SELECT pg_sleep(1.5)')],
      sequences: [{ source: { schema: 'public', name: 'st_id_seq' }, target: { schema: 'public', name: 'st_id_seq' } }],
    },
    (e) => {
      if (e.type === 'table-done') {
        killed = sql(
          src.url(),
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pgferry:snapshot'`,
        );
      }
    },
  );
  assert.ok(run.r, String(run.error));
  await killed;
  assert.ok(run.r.retries > 0, 'the sequence read was retried');
  assert.deepEqual(
    messages(run.seen).filter((w) => /snapshot/i.test(w)),
    [],
  );
  assert.ok(!run.seen.some((e) => e.type === 'snapshot' && e.fresh), 'no snapshot event says "fresh"');
  assert.equal(run.r.snapshotFresh, false);
  const seq = await sql(tgt.url('r_seq'), `SELECT last_value::text AS v FROM st_id_seq`);
  assert.equal(seq.rows[0].v, '300');
});

function emptyStatus(): TaskStatus {
  return {
    task: 't',
    dir: '/x',
    running: false,
    pid: null,
    status: 'interrupted',
    phase: 'data',
    source: null,
    target: null,
    startedAt: null,
    lastEventAt: null,
    lastPhase: null,
    tables: [],
    progress: null,
    warnings: 0,
    retries: 0,
    error: null,
    ended: null,
    checkpoint: null,
    recopied: [],
    limits: null,
    copied: { tablesSelected: null, tablesDone: 0, rows: 0, bytes: 0, from: 'events' },
  };
}

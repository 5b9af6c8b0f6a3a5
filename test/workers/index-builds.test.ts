// Index builds on workers: when a table's last unit lands, its index builds, the attachments that
// follow them and its ANALYZE are jobs of the task's index queue, run by `pgferry worker`
// processes (non-superuser accounts, passwords from the workers' own ~/.pgpass) within the task's
// --index-jobs slots; a worker killed with SIGKILL in the middle of a build is taken over and the
// index lands once; the target's schema and rows equal the source's.
// a dead worker's unit: expired after 4 s, found by the maintenance within 1 s, retried after 1 s
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { indexQueueOf } from '../../src/stages/data/distributed/control.js';
import { schemaFingerprint, tableHashes, withClient } from '../helpers/compare.js';
import { runIndexJob, type IndexJobData } from '../../src/stages/data/distributed/index-build.js';
import { ensureCheckpoints, markObjectDone } from '../../src/state/checkpoint.js';
import { workersFixture } from './fixture.js';

const fx = workersFixture({
  name: 'idx',
  sourceSql: `
      CREATE SCHEMA app;
      -- an index build slow enough to kill its worker in the middle of it
      CREATE FUNCTION app.slow(i int) RETURNS int LANGUAGE plpgsql IMMUTABLE
        AS $$ BEGIN PERFORM pg_sleep(0.002); RETURN i; END $$;
      CREATE TABLE app.big (id int PRIMARY KEY, payload text NOT NULL, code text NOT NULL UNIQUE);
      INSERT INTO app.big SELECT g, repeat(md5(g::text), 2), 'c' || g FROM generate_series(1, 20000) g;
      CREATE INDEX big_payload ON app.big (payload);
      CREATE INDEX big_slow ON app.big (app.slow(id)) WHERE id <= 2500;
      CREATE TABLE app.small (k text PRIMARY KEY, v int);
      INSERT INTO app.small SELECT 'k' || g, g FROM generate_series(1, 100) g;
      CREATE INDEX small_v ON app.small (v);
      ANALYZE;`,
});
/**
 * The index queue's jobs: what ran, on which worker, when. `key` is the step's checkpoint key, or
 * "group" for small tables taken whole, whose steps' keys are in `keys`.
 */
async function indexJobs(task: string) {
  const r = await withClient(fx.tgt.url('ctl'), (c) =>
    c.query<{
      state: string;
      retry_count: number;
      data: {
        table: string;
        stmt?: { key: string };
        group?: { table: string; stmts: { key: string }[]; analyze: boolean }[];
      };
      output: { worker?: string; ran?: boolean; durationMs?: number } | null;
      done_ms: string;
    }>(
      `SELECT state, retry_count, data, output, (extract(epoch FROM completed_on) * 1000)::bigint::text AS done_ms
         FROM pgferry_jobs.job WHERE name = $1`,
      [indexQueueOf(task)],
    ),
  );
  return r.rows.map(({ data, ...j }) => {
    const keys = data.group
      ? data.group.flatMap((m) => [...m.stmts.map((st) => st.key), ...(m.analyze ? [`analyze ${m.table}`] : [])])
      : [data.stmt?.key ?? `analyze ${data.table}`];
    return { ...j, key: data.group ? 'group' : keys[0], keys };
  });
}

const sameTarget = async (db: string) => {
  assert.deepEqual(await schemaFingerprint(fx.tgt.url(db)), await schemaFingerprint(fx.src.url('shop')));
  await fx.assertSameRows(db);
};

test('index builds, attachments and ANALYZE run on the workers, one at a time with --index-jobs 1', async () => {
  await fx.newTarget('built');
  const ws = await Promise.all([fx.startWorker(), fx.startWorker()]);
  const run = await fx.runCoordinator('built', ['--index-jobs', '1'], () => {});
  assert.equal(run.code, 0, run.stderr);
  // idle workers leave a finished task's target alone: no session of theirs stays on it
  const left = () =>
    withClient(fx.tgt.url(), async (c) => {
      const r = await c.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = 'built'`);
      return r.rows[0].n as number;
    });
  let sessions = await left();
  for (let k = 0; k < 50 && sessions > 0; k++) {
    await new Promise((r) => setTimeout(r, 200));
    sessions = await left();
  }
  assert.equal(sessions, 0, 'the workers closed their sessions on the finished task’s target');
  await Promise.all(ws.map(fx.stopWorker));
  await sameTarget('built');
  const jobs = await indexJobs('built');
  const pids = ws.map((w) => String(w.child.pid));
  // every step a job, completed by one of the two workers (host:pid)
  assert.ok(jobs.length >= 8, JSON.stringify(jobs));
  for (const j of jobs) {
    assert.equal(j.state, 'completed', JSON.stringify(j));
    assert.ok(pids.includes(j.output?.worker?.split(':')[1] ?? ''), `run by a worker: ${JSON.stringify(j)}`);
  }
  for (const k of ['constraint app.big_pkey', 'index app.big_slow', 'index app.small_v', 'analyze app.big'])
    assert.ok(
      jobs.some((j) => j.keys.some((x) => x.startsWith(k))),
      `${k} among ${jobs.map((j) => j.keys)}`,
    );
  // the small table's steps went whole, as one job
  const small = jobs.filter((j) => j.keys.some((x) => x.includes('app.small')));
  assert.equal(small.length, 1, JSON.stringify(small));
  assert.equal(small[0].key, 'group');
  // the coordinator names the worker of each step in its events, and counts them in the worker list
  const infos = run.events.filter((e) => e.type === 'log').map((e) => JSON.stringify(e));
  assert.ok(
    infos.some((m) => /index app\.big_slow done on worker [^ ]+:\d+/.test(m)),
    infos.join('\n'),
  );
  const counted = await withClient(fx.tgt.url('ctl'), (c) =>
    c.query<{ n: string }>(`SELECT sum(index_done)::text AS n FROM pgferry_control.worker WHERE task_id = 'built'`),
  );
  assert.equal(Number(counted.rows[0].n), jobs.length);
  // --index-jobs 1 holds for both workers together: no two steps overlapped
  const spans = jobs
    .map((j) => [Number(j.done_ms) - (j.output?.durationMs ?? 0), Number(j.done_ms)] as const)
    .sort((a, b) => a[0] - b[0]);
  for (let k = 1; k < spans.length; k++)
    assert.ok(spans[k][0] >= spans[k - 1][1] - 50, `steps overlapped: ${JSON.stringify(spans)}`);
});

test('a worker killed (SIGKILL) in the middle of an index build is taken over; the index lands once', async () => {
  await fx.newTarget('killed');
  const { run, killedAt, killed, taker } = await fx.killWhileRunning('killed', 'CREATE INDEX big_slow%', [], 100);
  assert.equal(run.code, 0, run.stderr);
  assert.ok(killedAt > 0 && taker, 'the worker was killed inside the build');
  assert.equal(await killed.exited, null);
  const slow = (await indexJobs('killed')).find((j) => j.key === 'index app.big_slow');
  assert.ok(
    slow && slow.retry_count > 0 && slow.output?.worker?.split(':')[1] !== String(killed.child.pid),
    `the build was retried: ${JSON.stringify(slow)}`,
  );
  // not finished by the killed worker: the one started after the kill built it
  assert.equal(
    slow.output?.worker?.split(':')[1],
    String(taker!.child.pid),
    JSON.stringify({ killed: killed.child.pid, slow }),
  );
  await sameTarget('killed');
  const once = await withClient(fx.tgt.url('killed'), (c) =>
    c.query<{ indexes: number; pk: number; checkpoints: number }>(
      `SELECT (SELECT count(*)::int FROM pg_indexes WHERE schemaname = 'app' AND indexname = 'big_slow') AS indexes,
              (SELECT count(*)::int FROM pg_constraint WHERE conname = 'big_pkey' AND contype = 'p') AS pk,
              (SELECT count(*)::int FROM pgferry.object WHERE object_key = 'index app.big_slow') AS checkpoints`,
    ),
  );
  assert.deepEqual(once.rows[0], { indexes: 1, pk: 1, checkpoints: 1 });
});

test('small tables’ index steps go whole, many tables to a job, each step’s checkpoint committed once', async (t) => {
  // 60 small tables, each with a primary key, an index and its ANALYZE
  const N = 60;
  const ddl = Array.from(
    { length: N },
    (_, i) => `CREATE TABLE many.t${i} (id int PRIMARY KEY, v int);
      CREATE INDEX t${i}_v ON many.t${i} (v);
      INSERT INTO many.t${i} SELECT g, g * ${i} FROM generate_series(1, 20) g;`,
  ).join('\n');
  await withClient(fx.src.url('shop'), (c) =>
    c.query(`CREATE SCHEMA many; ${ddl}
      GRANT USAGE ON SCHEMA many TO ${fx.srcRole}; GRANT SELECT ON ALL TABLES IN SCHEMA many TO ${fx.srcRole};`),
  );
  await fx.newTarget('many');
  const ws = await Promise.all([fx.startWorker(), fx.startWorker()]);
  const run = await fx.runCoordinator('many', ['--include-schema', 'many'], () => {});
  await Promise.all(ws.map(fx.stopWorker));
  assert.equal(run.code, 0, run.stderr);
  const hashes = async (url: string) => Object.entries(await tableHashes(url)).filter(([k]) => k.startsWith('many.'));
  assert.deepEqual(await hashes(fx.tgt.url('many')), await hashes(fx.src.url('shop')));
  const jobs = await indexJobs('many');
  // per table: the primary key's index build and its attachment, the index, ANALYZE: 240 steps, one job
  // each before; whole groups of up to 50 tables make a few
  assert.ok(jobs.length <= 10, `${jobs.length} index jobs: ${JSON.stringify(jobs.map((j) => j.keys.length))}`);
  for (const j of jobs) assert.equal(j.state, 'completed', JSON.stringify(j));
  const steps = jobs.flatMap((j) => j.keys);
  assert.equal(steps.length, 4 * N, JSON.stringify(steps.slice(0, 8)));
  assert.equal(new Set(steps).size, 4 * N, 'each step in one job only');
  t.diagnostic(`${steps.length} index steps of ${N} small tables in ${jobs.length} jobs`);
  const target = await withClient(fx.tgt.url('many'), (c) =>
    c.query<{ indexes: number; checkpoints: number; analyzed: number }>(
      `SELECT (SELECT count(*)::int FROM pg_indexes WHERE schemaname = 'many') AS indexes,
              (SELECT count(*)::int FROM pgferry.object WHERE object_key = ANY($1)) AS checkpoints,
              (SELECT count(*)::int FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'many' AND c.relkind = 'r' AND c.reltuples = 20) AS analyzed`,
      [steps],
    ),
  );
  assert.deepEqual(target.rows[0], { indexes: 2 * N, checkpoints: 4 * N, analyzed: N });
  // the coordinator reports every statement of the groups done (the key's build, its attachment, the index)
  const built = run.events.filter((e) => e.type === 'index-done' && e.table.startsWith('many.'));
  assert.equal(built.length, 3 * N);
});

test('a group run again (its first worker given up for dead) does only the steps not done, each checkpoint once', async () => {
  // the group's first run committed nothing for t1 but a step of t0 was committed by a run of its own
  await fx.newTarget('regroup');
  const url = fx.targetUrl('regroup');
  await withClient(url, (c) =>
    c.query(`CREATE SCHEMA app; CREATE TABLE app.t0 (id int, v int); CREATE TABLE app.t1 (id int, v int);
      INSERT INTO app.t0 SELECT g, g FROM generate_series(1, 10) g; INSERT INTO app.t1 SELECT g, g FROM generate_series(1, 10) g;`),
  );
  const stmt = (t: string) => ({
    key: `index app.${t}_v`,
    kind: 'index',
    name: `app.${t}_v`,
    section: 'early',
    sql: `CREATE INDEX ${t}_v ON app.${t} (v)`,
    lock: 'share',
  });
  const data = {
    taskId: 'regroup',
    table: '',
    group: ['t0', 't1'].map((t) => ({
      table: `app.${t}`,
      stmts: [stmt(t)],
      analyze: true,
      target: { schema: 'app', name: t },
    })),
  } as unknown as IndexJobData;
  await withClient(url, async (c) => {
    await ensureCheckpoints(c, 'regroup', 'postgresql://src/x');
    await c.query(stmt('t0').sql);
    await markObjectDone(c, 'regroup', 'index app.t0_v', 'index', 'early');
    assert.equal(await runIndexJob(c, data, fx.tgtRole), true, 'the steps not done ran');
    assert.equal(await runIndexJob(c, data, fx.tgtRole), false, 'a third run finds them all done');
    const r = await c.query(`SELECT object_key FROM pgferry.object WHERE task_id = 'regroup' ORDER BY 1`);
    assert.deepEqual(
      r.rows.map((x) => x.object_key),
      ['analyze app.t0', 'analyze app.t1', 'index app.t0_v', 'index app.t1_v'],
    );
    const idx = await c.query(`SELECT count(*)::int AS n FROM pg_indexes WHERE schemaname = 'app'`);
    assert.equal(idx.rows[0].n, 2);
  });
});

// Index builds on workers: when a table's last unit lands, its index builds, the attachments that
// follow them and its ANALYZE are jobs of the task's index queue, run by `pgferry worker`
// processes (non-superuser accounts, passwords from the workers' own ~/.pgpass) within the task's
// --index-jobs slots; a worker killed with SIGKILL in the middle of a build is taken over and the
// index lands once; the target's schema and rows equal the source's.
// a dead worker's unit: expired after 4 s, found by the maintenance within 1 s, retried after 1 s
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { indexQueueOf } from '../../src/stages/data/distributed/control.js';
import { schemaFingerprint, tableHashes, withClient } from '../helpers/compare.js';
import type { Cluster } from '../../src/dev/embedded/cluster.js';
import { type Worker, WorkersFixture } from './fixture.js';

const SRC_ROLE = 'idx_src';
const TGT_ROLE = 'idx_tgt';
const fx = new WorkersFixture({
  srcRole: SRC_ROLE,
  tgtRole: TGT_ROLE,
  tmpPrefix: 'pgferry-workers-idx-',
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
let src: Cluster;
let tgt: Cluster;

before(async () => {
  await fx.start();
  ({ src, tgt } = fx);
});
after(() => fx.stop());

const startWorker = (extraEnv?: NodeJS.ProcessEnv) => fx.startWorker(extraEnv);
const stopWorker = (w: Worker) => fx.stopWorker(w);
const runCoordinator: WorkersFixture['runCoordinator'] = (...a) => fx.runCoordinator(...a);

async function newTarget(db: string): Promise<void> {
  await withClient(tgt.url(), (c) => c.query(`CREATE DATABASE ${db} OWNER ${TGT_ROLE}`));
}

/** The index queue's jobs: what ran, on which worker, when. */
async function indexJobs(task: string) {
  const r = await withClient(tgt.url('ctl'), (c) =>
    c.query<{
      state: string;
      retry_count: number;
      key: string;
      output: { worker?: string; ran?: boolean; durationMs?: number } | null;
      done_ms: string;
    }>(
      `SELECT state, retry_count, coalesce(data->'stmt'->>'key', 'analyze ' || (data->>'table')) AS key, output,
              (extract(epoch FROM completed_on) * 1000)::bigint::text AS done_ms
         FROM pgferry_jobs.job WHERE name = $1`,
      [indexQueueOf(task)],
    ),
  );
  return r.rows;
}

const sameTarget = async (db: string) => {
  assert.deepEqual(await schemaFingerprint(tgt.url(db)), await schemaFingerprint(src.url('shop')));
  assert.deepEqual(await tableHashes(tgt.url(db)), await tableHashes(src.url('shop')));
};

test('index builds, attachments and ANALYZE run on the workers, one at a time with --index-jobs 1', async () => {
  await newTarget('built');
  const ws = await Promise.all([startWorker(), startWorker()]);
  const run = await runCoordinator('built', ['--index-jobs', '1'], () => {});
  assert.equal(run.code, 0, run.stderr);
  // idle workers leave a finished task's target alone: no session of theirs stays on it
  const left = () =>
    withClient(tgt.url(), async (c) => {
      const r = await c.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = 'built'`);
      return r.rows[0].n as number;
    });
  let sessions = await left();
  for (let k = 0; k < 50 && sessions > 0; k++) {
    await new Promise((r) => setTimeout(r, 200));
    sessions = await left();
  }
  assert.equal(sessions, 0, 'the workers closed their sessions on the finished task’s target');
  await Promise.all(ws.map(stopWorker));
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
      jobs.some((j) => j.key.startsWith(k)),
      `${k} among ${jobs.map((j) => j.key)}`,
    );
  // the coordinator names the worker of each step in its events, and counts them in the worker list
  const infos = run.events.filter((e) => e.type === 'log').map((e) => JSON.stringify(e));
  assert.ok(
    infos.some((m) => /index app\.big_slow done on worker [^ ]+:\d+/.test(m)),
    infos.join('\n'),
  );
  const counted = await withClient(tgt.url('ctl'), (c) =>
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
  await newTarget('killed');
  const a = await startWorker();
  let killedAt = 0;
  let b: Promise<Worker> | undefined;
  const watch = setInterval(async () => {
    if (killedAt) return;
    const busy = await withClient(tgt.url('killed'), (c) =>
      c.query(
        `SELECT 1 FROM pg_stat_activity WHERE datname = 'killed' AND state = 'active' AND query LIKE 'CREATE INDEX big_slow%'`,
      ),
    ).catch(() => ({ rowCount: 0 }));
    if (!busy.rowCount || killedAt) return;
    killedAt = Date.now();
    a.child.kill('SIGKILL');
    b = startWorker();
  }, 100);
  const run = await runCoordinator('killed', [], () => {});
  clearInterval(watch);
  const bw = b ? await b : undefined;
  if (bw) await stopWorker(bw);
  assert.equal(run.code, 0, run.stderr);
  assert.ok(killedAt > 0 && bw, 'the worker was killed inside the build');
  assert.equal(await a.exited, null);
  const slow = (await indexJobs('killed')).find((j) => j.key === 'index app.big_slow');
  assert.ok(
    slow && slow.retry_count > 0 && slow.output?.worker?.split(':')[1] !== String(a.child.pid),
    `the build was retried: ${JSON.stringify(slow)}`,
  );
  // not finished by the killed worker: the one started after the kill built it
  assert.equal(slow.output?.worker?.split(':')[1], String(bw!.child.pid), JSON.stringify({ a: a.child.pid, slow }));
  await sameTarget('killed');
  const once = await withClient(tgt.url('killed'), (c) =>
    c.query<{ indexes: number; pk: number; checkpoints: number }>(
      `SELECT (SELECT count(*)::int FROM pg_indexes WHERE schemaname = 'app' AND indexname = 'big_slow') AS indexes,
              (SELECT count(*)::int FROM pg_constraint WHERE conname = 'big_pkey' AND contype = 'p') AS pk,
              (SELECT count(*)::int FROM pgferry.object WHERE object_key = 'index app.big_slow') AS checkpoints`,
    ),
  );
  assert.deepEqual(once.rows[0], { indexes: 1, pk: 1, checkpoints: 1 });
});

// Distributed copy: `pgferry migrate --distributed` queues the units in a control database and
// `pgferry worker` processes copy them, with non-superuser accounts whose passwords the workers
// take from their own ~/.pgpass (the control database holds URIs without passwords).
// Three workers (one started late) copy a task; a worker killed with SIGKILL in the middle of a
// unit is taken over by another after the job's expiry; the target equals the source (hashes).
// a dead worker's unit: expired after 4 s, found by the maintenance within 1 s, retried after 1 s
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import type { TimedEvent, WorkerView } from '../../src/core/events.js';
import { queueOf } from '../../src/stages/data/distributed/control.js';
import { tableHashes, withClient } from '../helpers/compare.js';
import type { Cluster } from '../../src/dev/embedded/cluster.js';
import { SRC_PW, TGT_PW, type Worker, WorkersFixture } from './fixture.js';

const SRC_ROLE = 'dist_src';
const TGT_ROLE = 'dist_tgt';
const fx = new WorkersFixture({
  srcRole: SRC_ROLE,
  tgtRole: TGT_ROLE,
  tmpPrefix: 'pgferry-workers-',
  sourceSql: `
      CREATE SCHEMA app;
      CREATE TABLE app.big (id int PRIMARY KEY, payload text NOT NULL);
      INSERT INTO app.big SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 60000) g;
      CREATE TABLE app.small (k text PRIMARY KEY, v int);
      INSERT INTO app.small SELECT 'k' || g, g FROM generate_series(1, 100) g;
      ANALYZE;`,
});
const { dir } = fx;
let src: Cluster;
let tgt: Cluster;

before(async () => {
  await fx.start();
  ({ src, tgt } = fx);
});
after(() => fx.stop());

const env = () => fx.env();
const startWorker = (extraEnv?: NodeJS.ProcessEnv) => fx.startWorker(extraEnv);
const stopWorker = (w: Worker) => fx.stopWorker(w);
const runCoordinator: WorkersFixture['runCoordinator'] = (...a) => fx.runCoordinator(...a);

/** Run a pgferry command to its end; its stdout. */
function cli(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/cli.ts', ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: env(),
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`pgferry ${args[0]}: exit ${code}`))));
  });
}

const throttle = (task: string, flag: string) => cli(['throttle', task, flag, '--state-dir', join(dir, 'state')]);

/** Is the task paused for the workers (the control database's task row)? */
async function controlPaused(task: string, paused: boolean): Promise<boolean> {
  const r = await withClient(tgt.url('ctl'), (c) =>
    c.query('SELECT paused FROM pgferry_control.task WHERE task_id = $1', [task]),
  );
  return r.rows[0]?.paused === paused;
}

async function until(fn: () => Promise<boolean>, ms = 60_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

async function newTarget(db: string): Promise<void> {
  await withClient(tgt.url(), (c) => c.query(`CREATE DATABASE ${db} OWNER ${TGT_ROLE}`));
}

const lastWorkers = (events: TimedEvent[]): WorkerView[] =>
  (events.filter((e) => e.type === 'workers').at(-1) as { workers: WorkerView[] } | undefined)?.workers ?? [];

test('three workers (one started late, while the task is paused) copy a task; the target equals the source', async () => {
  await newTarget('three');
  const first = await Promise.all([startWorker(), startWorker()]);
  let late: Promise<Worker> | undefined;
  let pausedSeen = false;
  const run = await runCoordinator('three', ['--max-rows-per-sec', '5000'], (e) => {
    if (e.type !== 'unit-done' || late) return;
    // pause the task for all workers, start a third, resume: it joins the running task
    late = (async () => {
      await throttle('three', '--pause');
      pausedSeen = await until(() => controlPaused('three', true));
      const w = await startWorker();
      await throttle('three', '--resume');
      return w;
    })();
  });
  const workers = [...first, ...(late ? [await late] : [])];
  await Promise.all(workers.map(stopWorker));
  assert.equal(run.code, 0, run.stderr);
  assert.ok(late, 'a unit landed before the third worker started');
  assert.ok(pausedSeen, 'the pause reached the control database');
  assert.deepEqual(await tableHashes(tgt.url('three')), await tableHashes(src.url('shop')));
  const seen = lastWorkers(run.events);
  assert.equal(seen.length, 3, JSON.stringify(seen));
  for (const w of seen) assert.ok(w.unitsDone > 0, `worker ${w.worker} copied units: ${JSON.stringify(seen)}`);
  // `pgferry status` shows each worker: host, pid, units, rate, heartbeat
  const status = await cli(['status', 'three', '--state-dir', join(dir, 'state'), '--no-checkpoints']);
  for (const w of workers)
    assert.match(status, new RegExp(`pid ${w.child.pid}: \\d+ units?, .* rows/s, CPU .* heartbeat`));
  const units = run.events.filter((e) => e.type === 'unit-done').length;
  assert.equal(
    seen.reduce((a, w) => a + w.unitsDone, 0),
    units,
  );
  // no password reached the control database, the events or the workers' output
  const dumped = await withClient(tgt.url('ctl'), async (c) =>
    JSON.stringify(
      (await c.query(`SELECT t::text FROM pgferry_control.task t UNION ALL SELECT j::text FROM pgferry_jobs.job j`))
        .rows,
    ),
  );
  for (const text of [dumped, JSON.stringify(run.events), run.stderr, ...workers.flatMap((w) => w.out)]) {
    assert.ok(!text.includes(SRC_PW) && !text.includes(TGT_PW), 'a password leaked');
  }
});

test('a worker killed mid-unit (SIGKILL) is taken over by another; the unit lands once', async () => {
  await newTarget('killed');
  const a = await startWorker();
  let killedAt = 0;
  let b: Promise<Worker> | undefined;
  const watch = setInterval(async () => {
    if (killedAt) return;
    // A is inside a unit: its COPY runs on the target
    const busy = await withClient(tgt.url('killed'), (c) =>
      c.query(
        `SELECT 1 FROM pg_stat_activity WHERE datname = 'killed' AND state = 'active' AND query LIKE 'COPY %FROM STDIN%'`,
      ),
    ).catch(() => ({ rowCount: 0 }));
    if (!busy.rowCount || killedAt) return;
    killedAt = Date.now();
    a.child.kill('SIGKILL');
    b = startWorker();
  }, 200);
  const run = await runCoordinator('killed', ['--max-rows-per-sec', '15000'], () => {});
  clearInterval(watch);
  const bw = b ? await b : undefined;
  if (bw) await stopWorker(bw);
  assert.equal(run.code, 0, run.stderr);
  assert.ok(killedAt > 0 && bw, 'the worker was killed inside a unit');
  assert.equal(await a.exited, null);
  assert.deepEqual(await tableHashes(tgt.url('killed')), await tableHashes(src.url('shop')));
  // the killed worker's unit was retried by the job system and landed once
  const retried = await withClient(tgt.url('ctl'), (c) =>
    c.query(`SELECT state, retry_count, output, started_on FROM pgferry_jobs.job WHERE name = $1 AND retry_count > 0`, [
      queueOf('killed'),
    ]),
  );
  assert.ok(retried.rowCount! >= 1, `a job was retried after its worker died: ${JSON.stringify(retried.rows)}`);
  // taken over after the job's expiry (4 s here), well within a minute even on a loaded machine
  const takenAfterSec = (Math.min(...retried.rows.map((r) => Date.parse(r.started_on))) - killedAt) / 1000;
  assert.ok(takenAfterSec < 30, `taken over ${takenAfterSec} s after the kill`);
  const dup = await withClient(tgt.url('killed'), (c) =>
    c.query(`SELECT unit_id FROM pgferry.unit GROUP BY unit_id HAVING count(*) > 1`),
  );
  assert.equal(dup.rowCount, 0);
  const seen = lastWorkers(run.events);
  const taker = seen.find((w) => w.pid === bw!.child.pid);
  assert.ok(taker && taker.unitsDone > 0, `the late worker took over: ${JSON.stringify(seen)}`);
});

test('a stalled worker (SIGSTOP) whose unit was taken over finishes it later: the copy rolls back, the rows land once', async () => {
  await newTarget('stalled');
  const a = await startWorker();
  let stoppedAt = 0;
  let b: Promise<Worker> | undefined;
  let woke: Promise<boolean> | undefined;
  const watch = setInterval(async () => {
    if (stoppedAt) return;
    const busy = await withClient(tgt.url('stalled'), (c) =>
      c.query(
        `SELECT 1 FROM pg_stat_activity WHERE datname = 'stalled' AND state = 'active' AND query LIKE 'COPY %FROM STDIN%'`,
      ),
    ).catch(() => ({ rowCount: 0 }));
    if (!busy.rowCount || stoppedAt) return;
    stoppedAt = Date.now();
    a.child.kill('SIGSTOP');
    b = startWorker();
    // once another worker has committed the unit A holds, A wakes up and ends its copy of it
    // (until then A's open transaction holds back the table's index build)
    woke = (async () => {
      const taken = await until(async () => {
        const r = await withClient(tgt.url('ctl'), (c) =>
          c.query(`SELECT 1 FROM pgferry_jobs.job WHERE name = $1 AND retry_count > 0 AND state = 'completed'`, [
            queueOf('stalled'),
          ]),
        );
        return (r.rowCount ?? 0) > 0;
      });
      a.child.kill('SIGCONT');
      return taken && (await until(async () => a.out.some((l) => /copied meanwhile by another worker/.test(l))));
    })();
  }, 200);
  const run = await runCoordinator('stalled', ['--max-rows-per-sec', '15000'], () => {});
  clearInterval(watch);
  a.child.kill('SIGCONT');
  const wokeUp = await woke;
  await Promise.all([stopWorker(a), ...(b ? [b.then(stopWorker)] : [])]);
  assert.equal(run.code, 0, run.stderr);
  assert.ok(stoppedAt > 0, 'the worker was stopped inside a unit');
  assert.ok(wokeUp, `the stalled worker found its unit done: ${a.out.join('\n')}`);
  assert.deepEqual(await tableHashes(tgt.url('stalled')), await tableHashes(src.url('shop')));
});

test('with --jobs 2 and no worker running, the coordinator copies with its own local workers', async () => {
  await newTarget('local');
  const run = await runCoordinator('local', ['--jobs', '2'], () => {});
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(await tableHashes(tgt.url('local')), await tableHashes(src.url('shop')));
  const seen = lastWorkers(run.events);
  assert.equal(seen.length, 1, JSON.stringify(seen));
  assert.match(seen[0].worker, /:coordinator$/);
  assert.equal(seen[0].unitsDone, run.events.filter((e) => e.type === 'unit-done').length);
});

test('a rate limit holds for all workers together, not for each', async () => {
  await newTarget('limited');
  const ws = await Promise.all([startWorker(), startWorker()]);
  const limit = 6_000;
  const run = await runCoordinator('limited', ['--max-rows-per-sec', String(limit)], () => {});
  await Promise.all(ws.map(stopWorker));
  assert.equal(run.code, 0, run.stderr);
  const seen = lastWorkers(run.events);
  assert.equal(seen.filter((w) => w.unitsDone > 0).length, 2, JSON.stringify(seen));
  // rows from the start of the data phase to the last unit landed: a limit applied per worker
  // would let the two copy at twice the rate (load on the machine only slows them down)
  const units = run.events.filter((e) => e.type === 'unit-done') as (TimedEvent & { rows: number })[];
  const rows = units.reduce((a, e) => a + e.rows, 0);
  const start = run.events.find((e) => e.type === 'phase-start' && e.phase === 'data')!;
  const rate = rows / ((Date.parse(units.at(-1)!.at) - Date.parse(start.at)) / 1000);
  assert.ok(rate <= limit * 1.25, `${Math.round(rate)} rows/s with a limit of ${limit}`);
});

test('a unit that fails on every worker stops the coordinator with the worker’s error, no password in it', async () => {
  await newTarget('failing');
  // this worker's host has the target's password but not the source's
  const partial = join(dir, 'pgpass-partial');
  writeFileSync(partial, `127.0.0.1:${tgt.port}:*:${TGT_ROLE}:${TGT_PW}\n`);
  chmodSync(partial, 0o600);
  const w = await startWorker({ PGPASSFILE: partial, PGFERRY_JOB_TIMING: '4,1,1,1' });
  const run = await runCoordinator('failing', [], () => {}, { PGFERRY_JOB_TIMING: '4,1,1,1' });
  await stopWorker(w);
  assert.notEqual(run.code, 0);
  assert.match(run.stderr, /unit .* failed on the workers after its retries: .*(password|authentication)/);
  assert.match(run.stderr, /rerun the same command/);
  for (const text of [run.stderr, JSON.stringify(run.events), ...w.out]) {
    assert.ok(!text.includes(SRC_PW) && !text.includes(TGT_PW), 'a password leaked');
  }
});

// Distributed copy: `pgferry migrate --distributed` queues the units in a control database and
// `pgferry worker` processes copy them, with non-superuser accounts whose passwords the workers
// take from their own ~/.pgpass (the control database holds URIs without passwords).
// Three workers (one started late) copy a task; a worker killed with SIGKILL in the middle of a
// unit is taken over by another after the job's expiry; the target equals the source (hashes).
// a dead worker's unit: expired after 4 s, found by the maintenance within 1 s, retried after 1 s
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import type { TimedEvent, WorkerView } from '../../src/core/events.js';
import { queueOf } from '../../src/stages/data/distributed/control.js';
import { withClient } from '../helpers/compare.js';
import { appSchema, assertNoPassword, TGT_PW, until, type Worker, workersFixture } from './fixture.js';

const fx = workersFixture({
  name: 'dist',
  sourceSql: appSchema(60000),
});
const { dir } = fx;

/** Run a pgferry command to its end; its stdout. */
function cli(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/cli.ts', ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: fx.env(),
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`pgferry ${args[0]}: exit ${code}`))));
  });
}

const throttle = (task: string, flag: string) => cli(['throttle', task, flag, '--state-dir', join(dir, 'state')]);

const lastWorkers = (events: TimedEvent[]): WorkerView[] =>
  (events.filter((e) => e.type === 'workers').at(-1) as { workers: WorkerView[] } | undefined)?.workers ?? [];

test('three workers (one started late, while the task is paused) copy a task; the target equals the source', async () => {
  await fx.newTarget('three');
  const first = await Promise.all([fx.startWorker(), fx.startWorker()]);
  let late: Promise<Worker> | undefined;
  let pausedSeen = false;
  const run = await fx.runCoordinator('three', ['--max-rows-per-sec', '5000'], (e) => {
    if (e.type !== 'unit-done' || late) return;
    // pause the task for all workers, start a third, resume: it joins the running task
    late = (async () => {
      await throttle('three', '--pause');
      pausedSeen = await until(async () => (await fx.controlTask('three'))?.paused === true);
      const w = await fx.startWorker();
      await throttle('three', '--resume');
      return w;
    })();
  });
  const workers = [...first, ...(late ? [await late] : [])];
  await Promise.all(workers.map(fx.stopWorker));
  assert.equal(run.code, 0, run.stderr);
  assert.ok(late, 'a unit landed before the third worker started');
  assert.ok(pausedSeen, 'the pause reached the control database');
  await fx.assertSameRows('three');
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
  assertNoPassword([await fx.controlDump(), JSON.stringify(run.events), run.stderr, ...workers.flatMap((w) => w.out)]);
});

test('a worker killed mid-unit (SIGKILL) is taken over by another; the unit lands once', async () => {
  await fx.newTarget('killed');
  // the first worker is killed inside a unit: its COPY runs on the target
  const { run, killedAt, killed, taker } = await fx.killWhileRunning('killed', 'COPY %FROM STDIN%', [
    '--max-rows-per-sec',
    '15000',
  ]);
  assert.equal(run.code, 0, run.stderr);
  assert.ok(killedAt > 0 && taker, 'the worker was killed inside a unit');
  assert.equal(await killed.exited, null);
  await fx.assertSameRows('killed');
  // the killed worker's unit was retried by the job system and landed once
  const retried = await withClient(fx.tgt.url('ctl'), (c) =>
    c.query(`SELECT state, retry_count, output, started_on FROM pgferry_jobs.job WHERE name = $1 AND retry_count > 0`, [
      queueOf('killed'),
    ]),
  );
  assert.ok(retried.rowCount! >= 1, `a job was retried after its worker died: ${JSON.stringify(retried.rows)}`);
  // taken over after the job's expiry (4 s here), well within a minute even on a loaded machine
  const takenAfterSec = (Math.min(...retried.rows.map((r) => Date.parse(r.started_on))) - killedAt) / 1000;
  assert.ok(takenAfterSec < 30, `taken over ${takenAfterSec} s after the kill`);
  const dup = await withClient(fx.tgt.url('killed'), (c) =>
    c.query(`SELECT unit_id FROM pgferry.unit GROUP BY unit_id HAVING count(*) > 1`),
  );
  assert.equal(dup.rowCount, 0);
  const seen = lastWorkers(run.events);
  const tookOver = seen.find((w) => w.pid === taker!.child.pid);
  assert.ok(tookOver && tookOver.unitsDone > 0, `the late worker took over: ${JSON.stringify(seen)}`);
});

test('a stalled worker (SIGSTOP) whose unit was taken over finishes it later: the copy rolls back, the rows land once', async () => {
  await fx.newTarget('stalled');
  const a = await fx.startWorker();
  let stoppedAt = 0;
  let b: Promise<Worker> | undefined;
  let woke: Promise<boolean> | undefined;
  const watch = setInterval(async () => {
    if (stoppedAt) return;
    const busy = await fx.running('stalled', 'COPY %FROM STDIN%');
    if (!busy || stoppedAt) return;
    stoppedAt = Date.now();
    a.child.kill('SIGSTOP');
    b = fx.startWorker();
    // once another worker has committed the unit A holds, A wakes up and ends its copy of it
    // (until then A's open transaction holds back the table's index build)
    woke = (async () => {
      const taken = await until(async () => {
        const r = await withClient(fx.tgt.url('ctl'), (c) =>
          c.query(`SELECT 1 FROM pgferry_jobs.job WHERE name = $1 AND retry_count > 0 AND state = 'completed'`, [
            queueOf('stalled'),
          ]),
        );
        return (r.rowCount ?? 0) > 0;
      }, 150_000); // the takeover waits out the job's expiry, slower on a loaded machine
      a.child.kill('SIGCONT');
      return taken && (await until(async () => a.out.some((l) => /copied meanwhile by another worker/.test(l))));
    })();
  }, 200);
  const run = await fx.runCoordinator('stalled', ['--max-rows-per-sec', '15000'], () => {});
  clearInterval(watch);
  a.child.kill('SIGCONT');
  const wokeUp = await woke;
  await Promise.all([fx.stopWorker(a), ...(b ? [b.then(fx.stopWorker)] : [])]);
  assert.equal(run.code, 0, run.stderr);
  assert.ok(stoppedAt > 0, 'the worker was stopped inside a unit');
  assert.ok(wokeUp, `the stalled worker found its unit done: ${a.out.join('\n')}`);
  await fx.assertSameRows('stalled');
});

test('with --jobs 2 and no worker running, the coordinator copies with its own local workers', async () => {
  await fx.newTarget('local');
  const run = await fx.runCoordinator('local', ['--jobs', '2'], () => {});
  assert.equal(run.code, 0, run.stderr);
  await fx.assertSameRows('local');
  const seen = lastWorkers(run.events);
  assert.equal(seen.length, 1, JSON.stringify(seen));
  assert.match(seen[0].worker, /:coordinator$/);
  assert.equal(seen[0].unitsDone, run.events.filter((e) => e.type === 'unit-done').length);
});

test('a rate limit holds for all workers together, not for each', async () => {
  await fx.newTarget('limited');
  const ws = await Promise.all([fx.startWorker(), fx.startWorker()]);
  const limit = 6_000;
  const run = await fx.runCoordinator('limited', ['--max-rows-per-sec', String(limit)], () => {});
  await Promise.all(ws.map(fx.stopWorker));
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
  await fx.newTarget('failing');
  // this worker's host has the target's password but not the source's
  const partial = join(dir, 'pgpass-partial');
  writeFileSync(partial, `127.0.0.1:${fx.tgt.port}:*:${fx.tgtRole}:${TGT_PW}\n`);
  chmodSync(partial, 0o600);
  const w = await fx.startWorker({ PGPASSFILE: partial, PGFERRY_JOB_TIMING: '4,1,1,1' });
  const run = await fx.runCoordinator('failing', [], () => {}, { PGFERRY_JOB_TIMING: '4,1,1,1' });
  await fx.stopWorker(w);
  assert.notEqual(run.code, 0);
  assert.match(run.stderr, /unit .* failed on the workers after its retries: .*(password|authentication)/);
  assert.match(run.stderr, /rerun the same command/);
  assertNoPassword([run.stderr, JSON.stringify(run.events), ...w.out]);
});

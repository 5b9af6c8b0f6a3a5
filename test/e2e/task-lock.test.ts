// One task, one runner: a run holds an advisory lock keyed by its task on the target. A second
// run of the task from another state dir is refused at once (exit 7, naming the holder), finish
// refuses while the lock is held (whatever the session's application_name), and a main session
// that is terminated reconnects and takes the lock again. Run as non-superusers on both sides.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { sampleDatabaseSql } from '../../src/dev/demo/sample.js';
import { finishTask } from '../../src/cli/commands/finish.js';
import { PgferryError } from '../../src/core/errors.js';
import { taskLockHolder } from '../../src/engine/tasklock.js';
import { StateDir } from '../../src/state/state-dir.js';
import type { TimedEvent } from '../../src/core/events.js';
import { tableHashes, withClient } from '../helpers/compare.js';
import pg from 'pg';

let srv: Cluster;
const dirA = mkdtempSync(join(tmpdir(), 'pgferry-lock-a-'));
const dirB = mkdtempSync(join(tmpdir(), 'pgferry-lock-b-'));
const sourceUrl = () => srv.url('shop', 'reader');
const targetUrl = () => srv.url('lock_tgt', 'mover');

before(async () => {
  srv = await startCluster({ version: 15, name: 'pgferry-lock' });
  await withClient(srv.url(), (c) => c.query(`CREATE DATABASE shop; `));
  await withClient(srv.url(), async (c) => {
    await c.query(`CREATE ROLE reader LOGIN; CREATE ROLE mover LOGIN`);
    await c.query(`CREATE DATABASE lock_tgt OWNER mover`);
    await c.query(`CREATE DATABASE lock_tgt2 OWNER mover`);
    await c.query(`REVOKE CONNECT ON DATABASE shop FROM PUBLIC; GRANT CONNECT ON DATABASE shop TO reader`);
  });
  await withClient(srv.url('shop'), async (c) => {
    await c.query(sampleDatabaseSql(0.2));
    await c.query(`GRANT USAGE ON SCHEMA shop TO reader; GRANT SELECT ON ALL TABLES IN SCHEMA shop, public TO reader;
                   GRANT SELECT ON ALL SEQUENCES IN SCHEMA shop, public TO reader`);
  });
});
after(async () => {
  await srv?.stop();
  for (const d of [dirA, dirB]) rmSync(d, { recursive: true, force: true });
});

interface Run {
  done: Promise<{ code: number | null; stderr: string }>;
  events: TimedEvent[];
  waitFor(p: (e: TimedEvent) => boolean): Promise<void>;
}

function cli(args: string[]): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/cli.ts', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: TimedEvent[] = [];
  const waiters: { p: (e: TimedEvent) => boolean; resolve: () => void }[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let e: TimedEvent;
    try {
      e = JSON.parse(line) as TimedEvent;
    } catch {
      return;
    }
    events.push(e);
    for (const w of waiters.filter((x) => x.p(e))) w.resolve();
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stderr })),
  );
  const waitFor = (p: (e: TimedEvent) => boolean) =>
    new Promise<void>((resolve, reject) => {
      if (events.some(p)) return resolve();
      waiters.push({ p, resolve });
      void done.then((r) => reject(new Error(`pgferry exited (${r.code}) before the awaited event:\n${r.stderr}`)));
    });
  return { done, events, waitFor };
}

const holderOf = (task: string) => withClient(targetUrl(), (c) => taskLockHolder(c as unknown as pg.Client, task));

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The run's copy holds back its units (control.json) until `resume`: it runs as long as the test needs. */
const pauseCopy = (dir: string, task: string) => new StateDir(dir, task).writeJson('control.json', { paused: true });
const resumeCopy = (dir: string, task: string) => new StateDir(dir, task).writeJson('control.json', { paused: false });
const copyPaused = (e: TimedEvent) => e.type === 'log' && /data copy paused/.test(e.message);

test('a second run of a running task is refused at once, finish too; a lost main session re-takes the lock', async () => {
  pauseCopy(dirA, 'locked');
  const base = ['migrate', '--json', '--name', 'locked', '-s', sourceUrl(), '--jobs', '1', '--no-owner'];
  const first = cli([
    ...base,
    '--state-dir',
    dirA,
    '-t',
    `${targetUrl()}&application_name=custom-app`,
    '--max-rows-per-sec',
    '1500',
  ]);
  await first.waitFor(copyPaused);

  const second = await cli([...base, '--state-dir', dirB, '-t', targetUrl()]).done;
  assert.equal(second.code, 7, second.stderr);
  assert.match(
    second.stderr,
    /task "locked" is already running against this target \(target backend pid \d+, application_name "custom-app:main [^"]* pid \d+"/,
  );

  await assert.rejects(
    finishTask({ task: 'locked', stateDir: dirB, target: targetUrl() }, { log: () => {}, confirm: async () => false }),
    (e: unknown) =>
      e instanceof PgferryError &&
      e.kind === 'state' &&
      /still running against the target .*custom-app/.test(e.message),
  );

  // the main target session is terminated: the runner reconnects and holds the lock again
  const h1 = await until('the lock holder', () => holderOf('locked'));
  await withClient(srv.url('lock_tgt'), (c) => c.query('SELECT pg_terminate_backend($1)', [h1.pid]));
  const h2 = await until('the lock re-taken', async () => {
    const h = await holderOf('locked');
    return h && h.pid !== h1.pid ? h : undefined;
  });
  assert.match(h2.applicationName ?? '', /^custom-app:main /);
  assert.ok(
    !first.events.some((e) => e.type === 'phase-end' && e.phase === 'data'),
    'the lock was re-taken while the copy still ran',
  );
  resumeCopy(dirA, 'locked');

  const r = await first.done;
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await tableHashes(srv.url('lock_tgt')), await tableHashes(srv.url('shop')));
  const fin = await finishTask(
    { task: 'locked', stateDir: dirB, target: targetUrl() },
    { log: () => {}, confirm: async () => false },
  );
  assert.deepEqual(fin.removedTasks, ['locked']);
  assert.equal(fin.droppedSchema, true);
});

test('a run whose lock is taken by another session while it reconnects stops at once (exit 7)', async () => {
  const target = srv.url('lock_tgt2', 'mover');
  pauseCopy(dirA, 'taken');
  const run = cli([
    'migrate',
    '--json',
    '--name',
    'taken',
    '-s',
    sourceUrl(),
    '--jobs',
    '1',
    '--no-owner',
    '--state-dir',
    dirA,
    '-t',
    target,
    '--max-rows-per-sec',
    '1500',
  ]);
  await run.waitFor(copyPaused);
  const h = await until('the lock holder', () =>
    withClient(target, (c) => taskLockHolder(c as unknown as pg.Client, 'taken')),
  );
  const thief = new pg.Client({ connectionString: target, application_name: 'lock-thief' });
  await thief.connect();
  try {
    // queued behind the runner's session: it gets the lock the moment that session ends
    await thief.query(`SET lock_timeout = '10s'`);
    const took = thief.query(`SELECT pg_advisory_lock(hashtext('pgferry task'), hashtext('taken'))`);
    await withClient(srv.url('lock_tgt2'), (c) => c.query('SELECT pg_terminate_backend($1)', [h.pid]));
    await took;
    const r = await run.done;
    assert.equal(r.code, 7, r.stderr);
    assert.match(r.stderr, /task "taken" is already running against this target \(.*application_name "lock-thief"/);
    assert.ok(!run.events.some((e) => e.type === 'phase-end' && e.phase === 'data' && e.ok), 'the copy stopped');
  } finally {
    await thief.end();
  }
});

// The runner through a TaskStore: the same task run through the state-dir store and through the
// PostgreSQL store (as an account that owns its database, no superuser; source and target accounts
// limited too). Its record follows the phases and carries the progress and no password; a second
// run of the task is refused while the first runs, naming the holder; live controls are per run:
// one paused task does not hold back another task of the same process. A run killed with SIGKILL
// loses its session on the store with it, so its lease is void at once: a rerun (from another state
// dir) takes the task over without waiting for the lease to expire.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { sampleDatabaseSql } from '../../src/dev/demo/sample.js';
import { validateTask, type TaskConfig } from '../../src/core/config.js';
import { EventBus, type TimedEvent } from '../../src/core/events.js';
import { PgferryError } from '../../src/core/errors.js';
import { quoteIdent } from '../../src/core/ident.js';
import { migrate, type MigrateResult } from '../../src/engine/runner.js';
import { controlsFrom } from '../../src/stages/data/copy/engine.js';
import type { Controls } from '../../src/stages/data/copy/controls.js';
import { readStatus } from '../../src/stages/report/status.js';
import { FileTaskStore } from '../../src/state/file-store.js';
import { PgTaskStore } from '../../src/state/pg-store.js';
import { StateDir } from '../../src/state/state-dir.js';
import type { TaskStore } from '../../src/state/store.js';
import { tableHashes, withClient } from '../helpers/compare.js';
import { passwordHba, sourceAccount } from './accounts.js';
import { RecordingStore } from './recording-store.js';

let srv: Cluster;
let source: string;
const stateRoot = mkdtempSync(join(tmpdir(), 'pgferry-taskstore-'));
const childRoot = mkdtempSync(join(tmpdir(), 'pgferry-taskstore-child-'));
const PW = { src: 'ts-src-pw-3141', tgt: 'ts-tgt-pw-2718', store: 'ts-store-pw-1618' };

before(async () => {
  srv = await startCluster({ version: 15, name: 'pgferry-tstore', hba: passwordHba(['ts_src', 'ts_tgt', 'keeper']) });
  await withClient(srv.url(), async (c) => {
    await c.query('CREATE DATABASE shop');
    await c.query(`CREATE ROLE ts_tgt LOGIN PASSWORD '${PW.tgt}'; CREATE ROLE keeper LOGIN PASSWORD '${PW.store}'`);
    await c.query('CREATE DATABASE tasks OWNER keeper');
  });
  await withClient(srv.url('shop'), (c) => c.query(sampleDatabaseSql(0.05)));
  source = await sourceAccount(srv, 'shop', 'ts_src', PW.src, ['shop', 'public']);
});
after(async () => {
  await srv?.stop();
  rmSync(stateRoot, { recursive: true, force: true });
  rmSync(childRoot, { recursive: true, force: true });
});

const storeUrl = () => srv.url('tasks', 'keeper', PW.store);
const openStore = (kind: 'file' | 'pg'): TaskStore =>
  kind === 'file' ? new FileTaskStore(stateRoot) : new PgTaskStore(storeUrl());

async function targetDb(db: string): Promise<string> {
  await withClient(srv.url(), (c) => c.query(`CREATE DATABASE ${quoteIdent(db)} OWNER ts_tgt`));
  return srv.url(db, 'ts_tgt', PW.tgt);
}

interface Running {
  events: TimedEvent[];
  done: Promise<MigrateResult>;
  /** Resolves at the first event `p` accepts; rejects when the run ends first. */
  waitFor(p: (e: TimedEvent) => boolean): Promise<void>;
}

function start(task: TaskConfig, store: TaskStore, controls: Controls): Running {
  const bus = new EventBus();
  const events: TimedEvent[] = [];
  const waiters: { p: (e: TimedEvent) => boolean; resolve: () => void }[] = [];
  bus.on((e) => {
    events.push(e);
    for (const w of waiters.filter((x) => x.p(e))) w.resolve();
  });
  const done = migrate(task, { events: bus, store, controls });
  done.catch(() => {});
  const waitFor = (p: (e: TimedEvent) => boolean) =>
    new Promise<void>((resolve, reject) => {
      if (events.some(p)) return resolve();
      waiters.push({ p, resolve });
      done.then(
        () => reject(new Error('the run ended before the awaited event')),
        (e: unknown) => reject(e),
      );
    });
  return { events, done, waitFor };
}

const pausedCopy = (e: TimedEvent) => e.type === 'log' && /data copy paused/.test(e.message);
const taskOf = (name: string, target: string) =>
  validateTask({ name, source, target, stateDir: stateRoot, noOwner: true, noAcl: true, jobs: 2 });

/** Refused as already running, naming this process as the holder. */
const refusedHere = (task: string) => (e: unknown) => {
  assert.ok(e instanceof PgferryError && e.kind === 'state', String(e));
  const holder = `pgferry pid ${process.pid} on ${hostname()}`;
  assert.ok(
    e.message.startsWith(`task "${task}" is already running in this process (${holder}, lease until `),
    e.message,
  );
  assert.match(e.hint ?? '', /wait for that run to end/);
  return true;
};

for (const kind of ['file', 'pg'] as const) {
  test(`through the ${kind} store: the record follows the phases, and a second run is refused while it runs`, async () => {
    const name = `stored-${kind}`;
    const target = await targetDb(`tgt_${kind}`);
    const task = taskOf(name, target);
    const store = new RecordingStore(openStore(kind));
    const other = openStore(kind); // a second store on the same records, as another process has
    const controls = controlsFrom({ copy: task.copy, jobs: task.jobs });
    controls.set({ paused: true });
    const run = start(task, store, controls);
    try {
      await run.waitFor(pausedCopy);
      const live = await other.get(name);
      assert.equal(live?.status, 'running');
      assert.equal(live?.phase, 'data');
      assert.ok((await other.currentLease(name))?.holder.includes(`pid ${process.pid}`));
      await assert.rejects(migrate(task, { events: new EventBus(), store: other }), refusedHere(name));
      if (kind === 'file') {
        await assert.rejects(migrate(task, { events: new EventBus() }), refusedHere(name), 'the default store too');
      }
      assert.equal((await other.get(name))?.status, 'running', 'the refused run wrote nothing');
    } finally {
      controls.set({ paused: false });
    }
    const result = await run.done;
    assert.equal(result.verify?.ok, true);
    assert.deepEqual(await tableHashes(target), await tableHashes(source));

    const phases = store.patches.flatMap((p) => (p.phase ? [p.phase] : []));
    assert.deepEqual(phases, ['precheck', 'schema', 'data', 'post-data', 'verify', 'report']);
    assert.equal(store.patches[0].status, 'running');
    assert.equal(store.patches.at(-1)?.info?.progress !== undefined, true, 'the last progress is written at the end');
    const rec = await other.get(name);
    assert.equal(rec?.status, 'done');
    assert.equal(rec?.phase, 'report');
    assert.match(String(rec?.info.source), /^postgresql:\/\/ts_src@127\.0\.0\.1:\d+\/shop/);
    assert.match(String(rec?.config.target), /^postgresql:\/\/ts_tgt@127\.0\.0\.1:\d+\/tgt_/);
    const last = run.events.filter((e) => e.type === 'progress').at(-1);
    assert.ok(last && last.type === 'progress' && last.rows > 0);
    assert.deepEqual(rec?.info.progress, {
      rows: last.rows,
      bytes: last.bytes,
      estRows: last.estRows,
      estBytes: last.estBytes,
      rowsPerSec: last.rowsPerSec,
      bytesPerSec: last.bytesPerSec,
      etaSec: last.etaSec,
      at: last.at,
    });
    assert.equal(typeof rec?.info.startedAt, 'string');
    assert.equal(rec?.config.jobs, 2);
    const text = JSON.stringify(rec);
    for (const pw of Object.values(PW)) assert.ok(!text.includes(pw), `the record holds ${pw}`);
    assert.equal(await other.currentLease(name), undefined, 'the lease is given up at the end');
    if (kind === 'file') {
      const st = await readStatus(new StateDir(stateRoot, name), { checkpoints: false });
      assert.equal(st.status, 'done');
      assert.equal(st.running, false);
    }
    await store.close();
    await other.close();
  });
}

test('live controls are per run: pausing one task does not pause another task of the process', async () => {
  const [tgtA, tgtB] = [await targetDb('tgt_ctl_a'), await targetDb('tgt_ctl_b')];
  const [taskA, taskB] = [taskOf('ctl-a', tgtA), taskOf('ctl-b', tgtB)];
  const store = new FileTaskStore(stateRoot);
  const ctlA = controlsFrom({ copy: taskA.copy, jobs: taskA.jobs });
  const ctlB = controlsFrom({ copy: taskB.copy, jobs: taskB.jobs });
  ctlA.set({ paused: true });
  const a = start(taskA, store, ctlA);
  try {
    await a.waitFor(pausedCopy);
    const b = start(taskB, store, ctlB);
    assert.equal((await b.done).verify?.ok, true);
    assert.ok(b.events.some((e) => e.type === 'unit-done'));
    assert.equal(
      a.events.some((e) => e.type === 'unit-done'),
      false,
      'the paused task copied nothing meanwhile',
    );
    assert.equal((await store.get('ctl-a'))?.phase, 'data');
  } finally {
    ctlA.set({ paused: false });
  }
  assert.equal((await a.done).verify?.ok, true);
  assert.deepEqual(await tableHashes(tgtA), await tableHashes(source));
  assert.deepEqual(await tableHashes(tgtB), await tableHashes(source));
});

test('a run killed with SIGKILL gives its task up at once: a rerun takes it over before the lease expires', async (t) => {
  const name = 'killed';
  const target = await targetDb('tgt_killed');
  const ttl = 30_000;
  const raw = { name, source, target, noOwner: true, noAcl: true, jobs: 2 };
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'test/embed/lease-child.ts',
      storeUrl(),
      JSON.stringify({ ...raw, stateDir: childRoot }),
      `${ttl}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = once(child, 'exit');
  t.after(() => {
    child.kill('SIGKILL'); // a failed assertion must not leave it running
  });
  const paused = new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      if (l.startsWith('{') && pausedCopy(JSON.parse(l) as TimedEvent)) resolve();
    });
    void exited.then(() => reject(new Error(`the child ended early: ${stderr}`)));
  });
  await paused;
  const store = new PgTaskStore(storeUrl());
  const task = taskOf(name, target);
  const rerun = () => migrate(task, { events: new EventBus(), store, leaseTtlMs: ttl });
  await assert.rejects(rerun(), (e: unknown) => {
    assert.ok(e instanceof PgferryError && e.kind === 'state', String(e));
    assert.ok(e.message.startsWith(`task "${name}" is already running (pgferry pid ${child.pid} on `), e.message);
    return true;
  });

  child.kill('SIGKILL');
  await exited;
  const row = await withClient(storeUrl(), (c) =>
    c.query<{ expires_at: Date }>('SELECT expires_at FROM pgferry_store.lease WHERE task_id = $1', [name]),
  );
  const expires = row.rows[0].expires_at.getTime();
  assert.ok(expires > Date.now(), 'the dead run’s lease row has not expired');
  let took: { at: number; result: MigrateResult } | undefined;
  while (!took) {
    const at = Date.now();
    try {
      took = { at, result: await rerun() };
    } catch (e) {
      // the dead process's sessions end within moments of the kill
      if (!(e instanceof PgferryError && /is already running/.test(e.message))) throw e;
      assert.ok(at < expires, 'still refused when the lease expired');
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  assert.ok(took.at < expires, `taken over ${took.at - expires} ms after the lease expired`);
  assert.equal(took.result.verify?.ok, true);
  assert.deepEqual(await tableHashes(target), await tableHashes(source));
  assert.equal((await store.get(name))?.status, 'done');
  await store.close();
});

test('a run whose lease is taken by another claimant stops at once', async () => {
  const name = 'lease-stolen';
  const target = await targetDb('tgt_stolen');
  const task = taskOf(name, target);
  const store = new PgTaskStore(storeUrl());
  const controls = controlsFrom({ copy: task.copy, jobs: task.jobs });
  controls.set({ paused: true });
  const bus = new EventBus();
  const paused = new Promise<void>((resolve) => bus.on((e) => pausedCopy(e) && resolve()));
  const stop = new AbortController(); // whatever happens, the run ends with the test
  const run = migrate(task, { events: bus, store, controls, leaseTtlMs: 3_000, signal: stop.signal });
  run.catch(() => {});
  await paused;
  // the lease ran out (a store that could not be reached, a stopped process) and another host claimed it:
  // one statement, so that no renewal falls in between
  const stolen = await withClient(storeUrl(), (c) =>
    c.query(
      `UPDATE pgferry_store.lease SET holder = 'pgferry pid 1 on elsewhere', token = 'stolen',
              expires_at = clock_timestamp() + interval '60 s' WHERE task_id = $1`,
      [name],
    ),
  );
  setTimeout(() => stop.abort(new Error('the run did not stop on its lost lease')), 60_000).unref();
  assert.equal(stolen.rowCount, 1);
  const thief = new PgTaskStore(storeUrl());
  await assert.rejects(run, (e: unknown) => {
    assert.ok(e instanceof PgferryError && e.kind === 'state', String(e));
    assert.match(e.message, /the lease of "pgferry pid \d+ on [^"]+" on task "lease-stolen" was lost/);
    return true;
  });
  assert.equal((await thief.get(name))?.status, 'running', 'the stopped run wrote nothing over the new holder');
  assert.equal((await thief.currentLease(name))?.holder, 'pgferry pid 1 on elsewhere');
  await Promise.all([store.close(), thief.close()]);
});

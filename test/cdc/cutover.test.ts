// `pgferry cutover`: a write workload runs while an incremental task streams; the cutover (with
// --read-only) stops the writes, waits for the target, sets sequences, compares by hash, drops slot
// and publication and prints the write downtime. A cutover killed (-9) mid-way is run again and
// completes; a diverged target row stops it naming the table, with the slot kept for a retry.
// Accounts: a non-superuser source owner with REPLICATION, an application role that only writes,
// a non-superuser target owner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { createInterface } from 'node:readline';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster } from '../../src/dev/embedded/cluster.js';
import type { TimedEvent } from '../../src/core/events.js';
import { tableHashes, withClient } from '../helpers/compare.js';
import { cdcFixture } from './helpers.js';
import { startServer } from '../../src/server/app.js';
import { apiClient, waitForTask } from '../server/helpers.js';

const fx = cdcFixture({
  prefix: 'cutover-state',
  roles: { src: 'ferry_src', tgt: 'ferry_tgt', more: 'CREATE ROLE app_rw LOGIN' },
});
const { stateDir } = fx;

/** Source and target databases; the source's tables owned by ferry_src, written by app_rw. */
async function databases(name: string): Promise<{ source: string; target: string; app: string }> {
  const dbs = await fx.databases(
    name,
    `CREATE TABLE acct (id serial PRIMARY KEY, bal int, note text);
     INSERT INTO acct (bal, note) SELECT g, repeat('n', g % 50) FROM generate_series(1, 1000) g;
     CREATE TABLE log (v int, pad text);
     ALTER TABLE log REPLICA IDENTITY FULL;
     INSERT INTO log SELECT g % 7, 'p' FROM generate_series(1, 300) g;
     GRANT SELECT, INSERT, UPDATE, DELETE ON acct, log TO app_rw; GRANT USAGE ON SEQUENCE acct_id_seq TO app_rw;`,
  );
  return { ...dbs, app: fx.pg.url(`${name}_src`, 'app_rw') };
}

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** `pgferry <args>` in a child process; `onEvent` sees each JSON line and may SIGKILL it. */
function pgferry(args: string[], onEvent: (e: TimedEvent, kill: () => void) => void = () => {}): Promise<ChildResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/cli.ts', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const kill = () => child.kill('SIGKILL');
    createInterface({ input: child.stdout }).on('line', (line) => {
      stdout += `${line}\n`;
      try {
        onEvent(JSON.parse(line) as TimedEvent, kill);
      } catch {
        /* not an event */
      }
    });
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** The migrate run of an incremental task, and a promise of the moment it streams. */
function migrateRun(name: string, source: string, target: string) {
  let streaming!: () => void;
  const streams = new Promise<void>((r) => (streaming = r));
  let killRun!: () => void;
  const args = [
    'migrate',
    '--incremental',
    '--json',
    '--name',
    name,
    '--state-dir',
    stateDir,
    '-s',
    source,
    '-t',
    target,
  ];
  const run = pgferry([...args, '--no-owner', '--no-acl', '--verify', 'none'], (e, kill) => {
    killRun = kill;
    if (e.type === 'cdc-lag') streaming();
  });
  return { run, streams, kill: () => killRun?.() };
}

/** The application: transactions one after the other; refused ones (read-only) counted, not fatal. */
function workload(url: string) {
  let running = true;
  let n = 0;
  let refused = 0;
  const done = withClient(url, async (c) => {
    while (running) {
      n++;
      try {
        await c.query(`BEGIN;
          INSERT INTO acct (bal, note) VALUES (${n}, repeat('w', ${n % 300}));
          UPDATE acct SET bal = bal + 1 WHERE id = ${1 + (n % 100)};
          UPDATE acct SET id = -id WHERE id = ${200 + n};
          INSERT INTO log VALUES (${n % 7}, 'w');
          ${n % 10 === 0 ? `DELETE FROM log WHERE v = ${n % 7};` : ''}
          ${n % 13 === 0 ? `DELETE FROM acct WHERE id = ${n + 400};` : ''}
          COMMIT`);
      } catch (e) {
        await c.query('ROLLBACK').catch(() => {});
        if ((e as { code?: string }).code !== '25006') throw e;
        refused++;
      }
      await sleep(10);
    }
  });
  return {
    stop: async () => {
      running = false;
      await done;
      return { n, refused };
    },
  };
}

const cutoverArgs = (name: string, source: string, target: string) => [
  'cutover',
  name,
  '--state-dir',
  stateDir,
  '-s',
  source,
  '-t',
  target,
];

async function captureLeft(source: string) {
  return withClient(source, async (c) => ({
    slots: (await c.query('SELECT 1 FROM pg_replication_slots WHERE database = current_database()')).rowCount,
    publications: (await c.query('SELECT 1 FROM pg_publication')).rowCount,
  }));
}

const seq = (url: string) =>
  withClient(url, async (c) => (await c.query('SELECT last_value::int AS v FROM acct_id_seq')).rows[0].v as number);

async function appWrite(app: string): Promise<string | undefined> {
  try {
    await withClient(app, (c) => c.query(`INSERT INTO log VALUES (99, 'after')`));
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code;
  }
}

test('cutover --read-only under a write workload: target equals source, sequences set, capture gone, downtime printed, writes refused until undone', async () => {
  const { source, target, app } = await databases('ro');
  const w = workload(app);
  const m = migrateRun('ro', source, target);
  let stats = { n: 0, refused: 0 };
  let out: ChildResult;
  try {
    await m.streams;
    await sleep(500);
    out = await pgferry([...cutoverArgs('ro', source, target), '--read-only']);
    assert.equal(out.code, 0, out.stderr);
    // the application kept trying: its writes are refused now
    await sleep(200);
  } finally {
    stats = await w.stop();
  }
  const run = await m.run;
  assert.equal(run.code, 0, `the migrate run ends once its apply stopped: ${run.stderr}`);
  assert.ok(stats.refused > 0, `writes were refused during the cutover (${JSON.stringify(stats)})`);
  assert.match(out.stdout, /write downtime: \d+\.\d+ s \(writes stopped/);
  for (const s of ['stop writes', 'catch up', 'sync sequences', 'verify \\(hash\\)', 'drop slot and publication'])
    assert.match(out.stdout, new RegExp(`  ${s} +\\d+\\.\\d+ s`));
  assert.match(out.stdout, /undo: pgferry cutover ro --undo-read-only -s SOURCE -t TARGET/);
  assert.match(out.stdout, /DROP TRIGGER IF EXISTS pgferry_read_only_\w+ ON public\.acct;/);
  assert.deepEqual(await tableHashes(target), await tableHashes(source));
  assert.equal(await seq(target), await seq(source), 'sequence set from the source');
  assert.deepEqual(await captureLeft(source), { slots: 0, publications: 0 });
  assert.equal(await appWrite(app), '25006', 'the source refuses writes after the cutover until undone');

  const again = await pgferry(cutoverArgs('ro', source, target));
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /task ro was cut over already/);

  const status = await pgferry(['status', 'ro', '--state-dir', stateDir, '-t', target]);
  assert.match(
    status.stdout,
    /cut over to the target at \S+, writes stopped for \d+\.\d+ s; slot and publication dropped/,
  );
  assert.doesNotMatch(status.stdout, /stay on the source/);
  // finish after a cutover: the checkpoints go; the capture is gone already, so no source is needed
  const fin = await pgferry(['finish', 'ro', '--state-dir', stateDir, '-t', target]);
  assert.equal(fin.code, 0, fin.stderr);
  assert.match(fin.stdout, /removed the checkpoints of ro/);

  const undo = await pgferry([...cutoverArgs('ro', source, target), '--undo-read-only']);
  assert.equal(undo.code, 0, undo.stderr);
  assert.match(undo.stdout, /accepts writes to public\.acct, public\.log again/);
  assert.equal(await appWrite(app), undefined, 'writes allowed after the undo');
});

test('cutover killed (-9) at two steps, with no migrate run streaming: each rerun continues and the last completes', async () => {
  const { source, target, app } = await databases('kill');
  const w = workload(app);
  const m = migrateRun('kill', source, target);
  try {
    await m.streams;
    await sleep(300);
    m.kill();
    const r = await m.run;
    assert.equal(r.signal, 'SIGKILL');
    await sleep(500); // the application writes on: the cutover must apply those itself
  } catch (e) {
    await w.stop();
    throw e;
  }
  const killedAt: string[] = [];
  let stats = { n: 0, refused: 0 };
  try {
    for (const at of ['stop writes', 'catch up']) {
      const r = await pgferry([...cutoverArgs('kill', source, target), '--read-only', '--json'], (e, kill) => {
        if (e.type === 'cutover-step' && e.step === at) kill();
      });
      assert.equal(r.signal, 'SIGKILL', `cutover killed after "${at}": ${r.stderr}`);
      killedAt.push(at);
    }
  } finally {
    stats = await w.stop();
  }
  const last = await pgferry([...cutoverArgs('kill', source, target), '--read-only', '--json']);
  assert.equal(last.code, 0, last.stderr);
  const result = JSON.parse(last.stdout.trim().split('\n').at(-1)!);
  assert.equal(result.type, 'cutover-result');
  assert.ok(result.downtimeMs > 0);
  assert.ok(stats.refused > 0, 'the read-only stayed in place while the cutover was down');
  assert.deepEqual(killedAt, ['stop writes', 'catch up']);
  assert.deepEqual(await tableHashes(target), await tableHashes(source));
  assert.equal(await seq(target), await seq(source));
  assert.deepEqual(await captureLeft(source), { slots: 0, publications: 0 });
});

test('a diverged target row stops the cutover naming the table; slot kept, writes back; after the fix the rerun completes', async () => {
  const { source, target, app } = await databases('div');
  const m = migrateRun('div', source, target);
  await m.streams;
  await withClient(app, (c) => c.query(`UPDATE acct SET bal = -5 WHERE id = 7`));
  await withClient(target, (c) => c.query(`UPDATE log SET pad = 'diverged' WHERE ctid = (SELECT min(ctid) FROM log)`));
  // one cutover of a task at a time: a second one is refused before it touches anything
  const busy = await withClient(target, async (c) => {
    await c.query(`SELECT pg_advisory_lock(hashtext('pgferry cutover'), hashtext('div'))`);
    return pgferry([...cutoverArgs('div', source, target), '--read-only']);
  });
  assert.equal(busy.code, 7, busy.stderr);
  assert.match(busy.stderr, /a cutover of task "div" runs already \(target backend pid \d+/);
  const r = await pgferry([...cutoverArgs('div', source, target), '--read-only']);
  assert.equal(r.code, 5, r.stderr);
  assert.match(r.stderr, /target differs from the source in table\(s\) public\.log\b/);
  assert.doesNotMatch(r.stderr, /public\.acct/);
  assert.match(r.stderr, /slot pgferry_div_\w+ and publication pgferry_div_\w+ stay on the source/);
  assert.deepEqual(await captureLeft(source), { slots: 1, publications: 1 });
  assert.equal(await appWrite(app), undefined, 'a failed cutover lets the source accept writes again');
  assert.equal((await m.run).code, 0);
  // the fix: the target's row as the source has it; the write made meanwhile is applied by the rerun
  await withClient(target, (c) => c.query(`UPDATE log SET pad = 'p' WHERE pad = 'diverged'`));
  const retry = await pgferry(cutoverArgs('div', source, target));
  assert.equal(retry.code, 0, retry.stderr);
  assert.deepEqual(await tableHashes(target), await tableHashes(source));
  assert.deepEqual(await captureLeft(source), { slots: 0, publications: 0 });
});

test('without --read-only, writes that go on during the cutover stop it naming the tables; the slot stays', async () => {
  const { source, target, app } = await databases('late');
  const m = migrateRun('late', source, target);
  await m.streams;
  const w = workload(app);
  let r: ChildResult;
  try {
    await sleep(300);
    r = await pgferry(cutoverArgs('late', source, target));
  } finally {
    await w.stop();
  }
  assert.equal(r.code, 7, r.stderr);
  assert.match(r.stderr, /transaction\(s\) wrote to public\.acct, public\.log on the source after writes were to stop/);
  assert.match(r.stderr, /Stop the applications writing to the source \(or pass --read-only\)/);
  assert.deepEqual(await captureLeft(source), { slots: 1, publications: 1 });
  assert.equal((await m.run).code, 0);
  // writes stopped now: the rerun applies what came late and completes
  const retry = await pgferry(cutoverArgs('late', source, target));
  assert.equal(retry.code, 0, retry.stderr);
  assert.deepEqual(await tableHashes(target), await tableHashes(source));
});

test('POST /api/tasks/{id}/cutover: bad options get cause and fix; an incremental task started by the service is cut over, steps and downtime answered', async () => {
  const { target, app } = await databases('api');
  const source = fx.pg.url('api_src', 'ferry_src', 'src-secret-pw');
  await withClient(fx.pg.url(), (c) => c.query(`ALTER ROLE ferry_src PASSWORD 'src-secret-pw'`));
  const dataDir = mkdtempSync(join(tmpdir(), 'pgferry-cutover-api-'));
  const server = await startServer({ port: 0, dataDir, log: () => {} });
  const api = apiClient(server);
  try {
    const body = { name: 'api-cut', source, target, incremental: true, noOwner: true, noAcl: true, verify: 'none' };
    assert.equal((await api.call('POST', '/api/tasks', body)).status, 201);
    const bad = await api.call('POST', '/api/tasks/api-cut/cutover', { readOnly: 'yes' });
    assert.equal(bad.status, 400, bad.text);
    assert.match(bad.body.error.cause, /cutover: readOnly: /);
    assert.match(bad.body.error.fix, /readOnly\?: boolean/);
    assert.equal((await api.call('POST', '/api/tasks/api-cut/start')).status, 202);
    await waitForTask(api, 'api-cut', () => true);
    // streaming: the capture row on the target says so
    for (let i = 0; i < 600; i++) {
      const state = await withClient(target, async (c) =>
        c
          .query(`SELECT state FROM pgferry.cdc WHERE task_id = 'api-cut'`)
          .then((r) => r.rows[0]?.state as string | undefined)
          .catch(() => undefined),
      );
      if (state === 'stream') break;
      await sleep(200);
    }
    await withClient(app, (c) => c.query(`INSERT INTO acct (bal) VALUES (-1)`));
    const cut = await api.call('POST', '/api/tasks/api-cut/cutover', { readOnly: true });
    assert.equal(cut.status, 200, cut.text);
    assert.ok(cut.body.downtimeMs > 0);
    assert.deepEqual(
      cut.body.steps.map((s: { step: string }) => s.step),
      [
        'stop writes',
        'catch up',
        'sync sequences',
        'verify (hash)',
        'check no write arrived',
        'drop slot and publication',
      ],
    );
    assert.deepEqual(cut.body.readOnly, ['public.acct', 'public.log']);
    assert.doesNotMatch(cut.text + bad.text, /src-secret-pw/);
    assert.deepEqual(await tableHashes(target), await tableHashes(source));
    assert.deepEqual(await captureLeft(source), { slots: 0, publications: 0 });
    const undo = await api.call('POST', '/api/tasks/api-cut/cutover', { undoReadOnly: true });
    assert.deepEqual(undo.body.readOnlyLifted, ['public.acct', 'public.log']);
    assert.equal(await appWrite(app), undefined);
  } finally {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('--read-only gives way to a transaction in progress that would deadlock with it (the application writes log, then acct), then stops writes', async () => {
  const { source, target, app } = await databases('dl');
  const m = migrateRun('dl', source, target);
  await m.streams;
  await withClient(app, async (a) => {
    await a.query('BEGIN');
    await a.query(`INSERT INTO log VALUES (1, 'in progress')`);
    const cut = pgferry([...cutoverArgs('dl', source, target), '--read-only']);
    // the cutover has the lock on acct and waits for this transaction's on log
    for (let i = 0; i < 300; i++) {
      const waiting = await withClient(source, async (c) =>
        c.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'CREATE TRIGGER%'`),
      );
      if (waiting.rowCount) break;
      await sleep(100);
    }
    // now the application wants acct too: pgferry must let go rather than deadlock with it
    const second = await a.query(`INSERT INTO acct (bal) VALUES (-7)`).then(
      () => 'committed',
      (e: { code?: string }) => e.code,
    );
    await a.query(second === 'committed' ? 'COMMIT' : 'ROLLBACK');
    const r = await cut;
    assert.equal(r.code, 0, `${second}: ${r.stderr}`);
    assert.equal(second, 'committed', 'pgferry gives way: the application never sees a deadlock');
  });
  assert.equal((await m.run).code, 0);
  assert.deepEqual(await tableHashes(target), await tableHashes(source));
  assert.equal(await appWrite(app), '25006');
});

test('PostgreSQL 12 → 17: cutover --read-only of a streaming task under writes; target equals source, capture gone', async () => {
  const logical = { wal_level: 'logical', max_replication_slots: 4, max_wal_senders: 4 };
  const [pg12, pg17] = await Promise.all([
    startCluster({ version: 12, settings: logical }),
    startCluster({ version: 17 }),
  ]);
  try {
    await withClient(pg12.url(), async (c) => {
      await c.query('CREATE ROLE ferry_src LOGIN REPLICATION; CREATE ROLE app_rw LOGIN');
      await c.query('CREATE DATABASE shop OWNER ferry_src');
    });
    await withClient(pg17.url(), async (c) => {
      await c.query('CREATE ROLE ferry_tgt LOGIN');
      await c.query('CREATE DATABASE shop OWNER ferry_tgt');
    });
    const source = pg12.url('shop', 'ferry_src');
    const target = pg17.url('shop', 'ferry_tgt');
    await withClient(source, (c) =>
      c.query(`CREATE TABLE acct (id serial PRIMARY KEY, bal int, note text);
        INSERT INTO acct (bal, note) SELECT g, 'n' FROM generate_series(1, 500) g;
        CREATE TABLE log (v int, pad text);
        ALTER TABLE log REPLICA IDENTITY FULL;
        GRANT SELECT, INSERT, UPDATE, DELETE ON acct, log TO app_rw; GRANT USAGE ON SEQUENCE acct_id_seq TO app_rw;`),
    );
    const w = workload(pg12.url('shop', 'app_rw'));
    const m = migrateRun('v12', source, target);
    let stats = { n: 0, refused: 0 };
    try {
      await m.streams;
      const r = await pgferry([...cutoverArgs('v12', source, target), '--read-only']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /write downtime: /);
      await sleep(200);
    } finally {
      stats = await w.stop();
    }
    assert.equal((await m.run).code, 0);
    assert.ok(stats.refused > 0);
    assert.deepEqual(await tableHashes(target), await tableHashes(source));
    assert.equal(await seq(target), await seq(source));
    assert.deepEqual(await captureLeft(source), { slots: 0, publications: 0 });
  } finally {
    await Promise.all([pg12.stop(), pg17.stop()]);
  }
});

test('a cutover that times out waiting for the target lifts the read-only and leaves the apply streaming; the next one completes', async () => {
  const { source, target, app } = await databases('slow');
  const m = migrateRun('slow', source, target);
  await m.streams;
  let finished = false;
  void m.run.then(() => (finished = true));
  const r = await withClient(target, async (blocker) => {
    // the apply cannot write acct while this transaction holds it
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE acct IN ACCESS EXCLUSIVE MODE');
    await withClient(app, (c) => c.query(`UPDATE acct SET bal = 0 WHERE id = 3`));
    const out = await pgferry([...cutoverArgs('slow', source, target), '--read-only', '--timeout', '2']);
    await blocker.query('ROLLBACK');
    return out;
  });
  assert.equal(r.code, 7, r.stderr);
  assert.match(r.stderr, /the target did not catch up with the source's position [0-9A-F]+\/[0-9A-F]+ within 2 s/);
  assert.equal(await appWrite(app), undefined, 'writes allowed again');
  await sleep(3_000);
  assert.equal(finished, false, 'the migrate run goes on streaming');
  const again = await pgferry([...cutoverArgs('slow', source, target), '--read-only']);
  assert.equal(again.code, 0, again.stderr);
  assert.equal((await m.run).code, 0);
  assert.deepEqual(await tableHashes(target), await tableHashes(source));
});

test('--reverse: at the cutover, change capture from the target back to the source; the rollback applies what the target received', async () => {
  const { source, target, app } = await databases('rev');
  await withClient(fx.pg.url(), (c) => c.query('ALTER ROLE ferry_tgt REPLICATION'));
  const m = migrateRun('rev', source, target);
  await m.streams;
  const cut = await pgferry([...cutoverArgs('rev', source, target), '--read-only', '--reverse']);
  assert.equal(cut.code, 0, cut.stderr);
  assert.match(cut.stdout, / {2}set up reverse capture +\d+\.\d+ s/);
  assert.match(cut.stdout, /to roll back:\n {2}pgferry cutover rev-reverse -s TARGET -t SOURCE/);
  assert.equal((await m.run).code, 0);
  // the applications now write to the target: every kind of change
  await withClient(target, (c) =>
    c.query(`INSERT INTO acct (bal, note) VALUES (-1, 'on the new primary');
      UPDATE acct SET bal = bal * 2 WHERE id < 20;
      UPDATE acct SET id = -id WHERE id = 30;
      DELETE FROM acct WHERE id BETWEEN 40 AND 45;
      DELETE FROM log WHERE v = 3;
      INSERT INTO log VALUES (42, 'new');`),
  );
  assert.equal(await appWrite(app), '25006', 'the old source refuses writes meanwhile');
  // roll back: the old source gets the target's changes and takes writes again
  const back = await pgferry(['cutover', 'rev-reverse', '--state-dir', stateDir, '-s', target, '-t', source]);
  assert.equal(back.code, 0, back.stderr);
  assert.deepEqual(await tableHashes(source), await tableHashes(target));
  assert.equal(await seq(source), await seq(target));
  assert.equal(await appWrite(app), undefined, 'the old source takes writes again');
  const reverseLeft = await withClient(target, async (c) => ({
    slots: (await c.query('SELECT 1 FROM pg_replication_slots WHERE database = current_database()')).rowCount,
    publications: (await c.query('SELECT 1 FROM pg_publication')).rowCount,
  }));
  assert.deepEqual(reverseLeft, { slots: 0, publications: 0 });
});

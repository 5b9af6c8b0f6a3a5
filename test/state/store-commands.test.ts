// `--store postgresql://…` for the commands that read or write a task's record: migrate keeps the
// record, lease and live limits in the PostgreSQL task store; status reads them (with the target's
// checkpoints); throttle writes the live limits there and the running copy picks them up; finish
// refuses while another process holds the task's lease, then removes the checkpoints and records
// the task finished. The store account has a password, which no output shows. Source: an account
// with CONNECT/USAGE/SELECT only; target: the owner of the target database (no superusers).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { main } from '../../src/cli/main.js';
import { PgTaskStore } from '../../src/state/pg-store.js';
import { attachControlStore } from '../../src/stages/data/copy/control-store.js';
import { Controls } from '../../src/stages/data/copy/controls.js';
import { withClient } from '../helpers/compare.js';
import { passwordHba, sourceAccount, targetAccount } from '../embed/accounts.js';

const STORE_PW = 'Store-pw-77413';
let pg15: Cluster;
let storeUrl: string;
let source: string;
let target: string;
const stateDir = mkdtempSync(join(tmpdir(), 'pgferry-storecmd-'));

before(async () => {
  pg15 = await startCluster({
    version: 15,
    name: 'pgferry-storecmd',
    hba: passwordHba(['sc_store', 'sc_src', 'sc_tgt']),
  });
  await withClient(pg15.url(), async (c) => {
    await c.query(`CREATE ROLE sc_store LOGIN PASSWORD '${STORE_PW}'`);
    await c.query('CREATE DATABASE sc_store OWNER sc_store');
    await c.query('CREATE DATABASE sc_src');
  });
  await withClient(pg15.url('sc_src'), (c) =>
    c.query(`CREATE SCHEMA app; CREATE TABLE app.t (id int PRIMARY KEY, v text);
      INSERT INTO app.t SELECT g, 'v' || g FROM generate_series(1, 500) g;`),
  );
  source = await sourceAccount(pg15, 'sc_src', 'sc_src', 'Src-pw-1187', ['app']);
  target = await targetAccount(pg15, 'sc_tgt', 'sc_tgt', 'Tgt-pw-5530');
  const u = new URL(pg15.url('sc_store', 'sc_store'));
  u.password = STORE_PW;
  u.hostname = '127.0.0.1';
  storeUrl = u.toString();
});

after(async () => {
  await pg15?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

/** Run the CLI in this process; returns its exit code and what it printed. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const write = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };
  process.stdout.write = ((c: string | Uint8Array) => out.push(String(c)) > 0) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => err.push(String(c)) > 0) as typeof process.stderr.write;
  process.exitCode = 0;
  try {
    await main(['node', 'pgferry', ...args]);
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  const r = { code, stdout: out.join(''), stderr: err.join('') };
  assert.ok(!`${r.stdout}${r.stderr}`.includes(STORE_PW), `no store password in the output of ${args[0]}`);
  return r;
}

test('migrate, status, throttle and finish with --store postgresql://…', async () => {
  const m = await cli(
    'migrate',
    ...['--store', storeUrl, '-s', source, '-t', target, '--name', 'st1', '--state-dir', stateDir],
    ...['--verify', 'count', '--no-owner', '--no-acl', '--json'],
  );
  assert.equal(m.code, 0, m.stderr);
  const store = new PgTaskStore(storeUrl);
  try {
    assert.equal((await store.get('st1'))?.status, 'done', 'the record is in the store');

    // (the record keeps the target without its password: --target gives it)
    const s1 = await cli('status', 'st1', '--store', storeUrl, '-t', target, '--json');
    assert.equal(s1.code, 0, s1.stderr);
    const st1 = JSON.parse(s1.stdout);
    assert.equal(st1.status, 'done');
    assert.equal(st1.running, false);
    assert.equal(st1.copied.rows, 500, 'rows committed, from the target checkpoints');
    assert.equal(st1.copied.from, 'checkpoints');
    assert.equal(st1.limits.from, 'task');

    const t = await cli('throttle', 'st1', '--store', storeUrl, '--rows', '5k', '--pause');
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /st1: rows\/s 5,000, bytes\/s unlimited, paused \(task not running/);
    assert.deepEqual((await store.get('st1'))?.info.controls, { maxRowsPerSec: 5000, paused: true });
    const s2 = JSON.parse((await cli('status', '--store', storeUrl, '--json')).stdout);
    assert.equal(s2.length, 1);
    assert.deepEqual({ rows: s2[0].limits.maxRowsPerSec, from: s2[0].limits.from }, { rows: 5000, from: 'task store' });
    assert.match(
      (await cli('status', 'st1', '--store', storeUrl)).stdout,
      /limits: .*5,000 rows\/s.*\(from task store\)/,
    );

    // The live limits reach a run's controls through the store.
    const controls = new Controls({ jobs: 2 });
    const detach = attachControlStore(store, 'st1', controls, 50);
    try {
      for (let i = 0; i < 200 && !controls.paused; i++) await sleep(50);
      assert.equal(controls.paused, true);
      assert.equal(controls.values.maxRowsPerSec, 5000);
      await cli('throttle', 'st1', '--store', storeUrl, '--resume', '--rows', 'off');
      for (let i = 0; i < 200 && controls.paused; i++) await sleep(50);
      assert.deepEqual({ paused: controls.paused, rows: controls.values.maxRowsPerSec }, { paused: false, rows: null });
    } finally {
      detach();
    }

    const unknown = await cli('throttle', 'nope', '--store', storeUrl, '--rows', '1k');
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /no task "nope" in the task store .*\n?.*known tasks: st1/);

    // Another process holds the task: finish refuses, naming it.
    const lease = await store.lease('st1', 'pgferry pid 4242 on elsewhere', 60_000);
    assert.ok(lease);
    const refused = await cli('finish', 'st1', '--store', storeUrl, '-t', target);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /task "st1" is still running \(pgferry pid 4242 on elsewhere/);
    const s3 = JSON.parse((await cli('status', 'st1', '--store', storeUrl, '--json')).stdout);
    assert.deepEqual(
      { running: s3.running, holder: s3.holder },
      { running: true, holder: 'pgferry pid 4242 on elsewhere' },
    );
    await store.release(lease);

    const f = await cli('finish', 'st1', '--store', storeUrl, '-t', target);
    assert.equal(f.code, 0, f.stderr);
    assert.equal((await store.get('st1'))?.status, 'finished');
    const left = await withClient(
      target,
      async (c) => (await c.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'pgferry'`)).rowCount,
    );
    assert.equal(left, 0, 'checkpoints removed from the target');
  } finally {
    await store.close();
  }
});

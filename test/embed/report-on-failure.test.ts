// A failed run leaves its report (report.json, report.md) in its state dir, naming the failure:
// a permanent error in the data phase (migrate called in-process) and a failed precheck (the
// command line with --state-dir). Limited accounts with passwords on both sides.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { validateTask } from '../../src/core/config.js';
import { EventBus } from '../../src/core/events.js';
import { migrate } from '../../src/engine/runner.js';
import { PgferryError } from '../../src/core/errors.js';
import { withClient } from '../helpers/compare.js';
import { passwordHba, sourceAccount, targetAccount } from './accounts.js';

let srv: Cluster;
const stateRoot = mkdtempSync(join(tmpdir(), 'pgferry-failrep-'));
const SRC_PW = 'fail-src-Pw41';
const TGT_PW = 'fail-tgt-Pw42';
const PASSWORDS = [SRC_PW, TGT_PW];

before(async () => {
  srv = await startCluster({ version: 15, name: 'pgferry-failrep', hba: passwordHba(['fr_src', 'fr_tgt', 'fr_tgt2']) });
});
after(async () => {
  await srv?.stop();
  rmSync(stateRoot, { recursive: true, force: true });
});

interface Written {
  json: Record<string, any>;
  md: string;
  task: Record<string, any>;
  events: string;
}

function written(task: string): Written {
  const dir = join(stateRoot, task);
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  for (const f of ['report.json', 'report.md']) assert.ok(existsSync(join(dir, f)), `${f} written in ${dir}`);
  const all = ['report.json', 'report.md', 'task.json', 'events.jsonl'].map(read).join('\n');
  for (const pw of PASSWORDS) assert.ok(!all.includes(pw), 'no password in the state dir');
  return {
    json: JSON.parse(read('report.json')),
    md: read('report.md'),
    task: JSON.parse(read('task.json')),
    events: read('events.jsonl'),
  };
}

/** Does the report list `phase` as failed? */
function failedIn(w: Written, phase: string): boolean {
  return w.json.phases.some((p: { phase: string; ok: boolean | null }) => p.phase === phase && p.ok === false);
}

test('a permanent error in the data phase leaves a report naming it', async () => {
  await withClient(srv.url(), (c) => c.query('CREATE DATABASE fr_shop'));
  await withClient(srv.url('fr_shop'), (c) =>
    c.query(
      'CREATE TABLE items (id int PRIMARY KEY, qty int); INSERT INTO items SELECT g, g FROM generate_series(1, 20) g',
    ),
  );
  const source = await sourceAccount(srv, 'fr_shop', 'fr_src', SRC_PW, ['public']);
  const target = await targetAccount(srv, 'fr_target', 'fr_tgt', TGT_PW);
  // the target keeps its own table (ifExists: skip), whose check refuses some source rows
  await withClient(target, (c) =>
    c.query('CREATE TABLE items (id int PRIMARY KEY, qty int CONSTRAINT few CHECK (qty < 10))'),
  );
  const task = validateTask({
    name: 'fails-in-data',
    source,
    target,
    stateDir: stateRoot,
    ifExists: 'skip',
    noOwner: true,
    noAcl: true,
    jobs: 1,
    copy: { retryTimeSec: 5 },
  });
  const events = new EventBus();
  await assert.rejects(migrate(task, { events }), (e: unknown) => e instanceof PgferryError && /"few"/.test(e.message));

  const w = written('fails-in-data');
  assert.equal(w.json.status, 'failed');
  assert.match(w.json.error, /violates check constraint "few"/);
  assert.ok(failedIn(w, 'data'), 'data phase failed');
  assert.match(w.md, /Status: \*\*failed\*\* — .*violates check constraint "few"/);
  assert.equal(w.task.status, 'failed');
  assert.match(w.events, /"type":"task-end","ok":false/);
});

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const argv = ['--import', 'tsx', 'test/helpers/cli.ts', ...args];
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

test('a failed precheck run with --state-dir leaves a report naming the failing item', async () => {
  await withClient(srv.url(), (c) => c.query('CREATE DATABASE fr_shop2'));
  await withClient(srv.url('fr_shop2'), (c) =>
    c.query(
      'CREATE TABLE items (id int PRIMARY KEY, qty int); INSERT INTO items SELECT g, g FROM generate_series(1, 20) g',
    ),
  );
  const source = srv.url('fr_shop2', 'fr_src', SRC_PW);
  await withClient(srv.url(), (c) => c.query('GRANT CONNECT ON DATABASE fr_shop2 TO fr_src'));
  await withClient(srv.url('fr_shop2'), (c) => c.query('GRANT SELECT ON items TO fr_src'));
  const target = await targetAccount(srv, 'fr_target2', 'fr_tgt2', TGT_PW);
  // a table of that name holding rows on the target blocks the start (ifExists: error)
  await withClient(target, (c) => c.query('CREATE TABLE items (id int, qty int); INSERT INTO items VALUES (1, 1)'));

  const r = await cli([
    'migrate',
    '--name',
    'fails-in-precheck',
    '-s',
    source,
    '-t',
    target,
    '--state-dir',
    stateRoot,
    '--no-owner',
    '--no-acl',
    '--jobs',
    '1',
  ]);
  assert.equal(r.code, 4, r.stderr);
  for (const pw of PASSWORDS) assert.ok(!(r.stdout + r.stderr).includes(pw), 'no password printed');
  const w = written('fails-in-precheck');
  assert.equal(w.json.status, 'failed');
  assert.match(w.json.error, /precheck failed:[\s\S]*conflicts\.target/);
  assert.ok(failedIn(w, 'precheck'), 'precheck phase failed');
  assert.match(w.md, /Status: \*\*failed\*\* — precheck failed/);
  assert.equal(w.task.status, 'failed');
  // nothing was written to the target
  const state = await withClient(target, (c) =>
    c.query(`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'pgferry'`),
  );
  assert.equal(state.rows[0].n, 0);
});

// Reports and status of a task that ran twice (killed mid-copy, then resumed), as least-privilege
// accounts whose passwords come from ~/.pgpass: the report counts every run from the target's
// checkpoints and records the selection; status shows the limits in effect, selected tables and
// only committed rows, says which credentials failed, and exits non-zero for a stopped task.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import type { TimedEvent } from '../../src/core/events.js';
import { withClient } from '../helpers/compare.js';
import { childEnv, cli, type CliRun } from './run.js';
import { VirtualTerminal } from './vt.js';

let src: Cluster;
let tgt: Cluster;
const home = mkdtempSync(join(tmpdir(), 'pgferry-cli-home-'));
const stateDir = join(home, 'state');
const SRC_PW = 'src-Secret-9';
const TGT_PW = 'tgt-Secret-7';
const hba = ['host all src_ro 127.0.0.1/32 scram-sha-256', 'host all tgt_owner 127.0.0.1/32 scram-sha-256'];
const settings = { password_encryption: "'scram-sha-256'" };

const SOURCE_SQL = `
CREATE TABLE public.a (id int PRIMARY KEY, pad text);
INSERT INTO public.a SELECT g, repeat(md5(g::text), 6) FROM generate_series(1, 3000) g;
CREATE TABLE public.b (id int PRIMARY KEY, pad text);
INSERT INTO public.b SELECT g, repeat(md5(g::text), 6) FROM generate_series(1, 2500) g;
CREATE TABLE public.users (id int PRIMARY KEY, email text, secret text);
INSERT INTO public.users SELECT g, 'u' || g || '@x', repeat(md5(g::text), 6) FROM generate_series(1, 2000) g;
CREATE TABLE public.events (id int PRIMARY KEY, pad text);
INSERT INTO public.events SELECT g, repeat(md5(g::text), 6) FROM generate_series(1, 2200) g;
CREATE TABLE public.slow (id int);
INSERT INTO public.slow SELECT g FROM generate_series(1, 14000) g;
CREATE ROLE src_ro LOGIN PASSWORD '${SRC_PW}';
GRANT USAGE ON SCHEMA public TO src_ro;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO src_ro;`;

// every row of a, b, users and slow; the even half of events
const EXPECTED_ROWS = 3000 + 2500 + 2000 + 1100 + 14000;

before(async () => {
  [src, tgt] = await Promise.all([15, 17].map((version) => startCluster({ version, hba, settings })));
  await withClient(src.url(), (c) => c.query('CREATE DATABASE app'));
  await withClient(src.url('app'), (c) => c.query(SOURCE_SQL));
  await withClient(src.url(), (c) => c.query('GRANT CONNECT ON DATABASE app TO src_ro'));
  await withClient(tgt.url(), async (c) => {
    await c.query(`CREATE ROLE tgt_owner LOGIN PASSWORD '${TGT_PW}'`);
    await c.query('CREATE DATABASE appt OWNER tgt_owner');
    await c.query('CREATE DATABASE blocked OWNER tgt_owner');
    await c.query('CREATE DATABASE apptty OWNER tgt_owner');
  });
  const pgpass = [`127.0.0.1:${src.port}:*:src_ro:${SRC_PW}`, `127.0.0.1:${tgt.port}:*:tgt_owner:${TGT_PW}`];
  writeFileSync(join(home, '.pgpass'), pgpass.join('\n') + '\n');
  chmodSync(join(home, '.pgpass'), 0o600);
});

after(async () => {
  await Promise.all([src?.stop(), tgt?.stop()]);
  rmSync(home, { recursive: true, force: true });
});

const srcUrl = () => `postgresql://src_ro@127.0.0.1:${src.port}/app?sslmode=disable`;
const tgtUrl = (db = 'appt') => `postgresql://tgt_owner@127.0.0.1:${tgt.port}/${db}?sslmode=disable`;
const env: NodeJS.ProcessEnv = { HOME: home, PGPASSWORD: undefined, PGPASSFILE: undefined };

function taskFile(name: string, db: string): string {
  const file = join(home, `${name}.yaml`);
  writeFileSync(
    file,
    `name: ${name}
source: ${srcUrl()}
target: ${tgtUrl(db)}
stateDir: ${stateDir}
jobs: 1
noOwner: true
noAcl: true
includeSchemas: [public]
tables:
  public.users:
    columns: [id, email]
    rename: app_users
    columnMap: { email: email_address }
  public.events:
    where: "id % 2 = 0"
copy: { maxRowsPerSec: 4k }
verify: count
`,
  );
  return file;
}

/** `migrate --json`, SIGKILLed when `stop` says so. */
type Stopped = { events: TimedEvent[]; signal: NodeJS.Signals | null };

function migrateUntil(file: string, stop: (e: TimedEvent) => boolean): Promise<Stopped> {
  return new Promise((resolve) => {
    const argv = ['--import', 'tsx', 'test/helpers/cli.ts', 'migrate', '--task', file, '--json'];
    const child = spawn(process.execPath, argv, { env: childEnv(env) });
    const events: TimedEvent[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        const e = JSON.parse(line) as TimedEvent;
        events.push(e);
        if (stop(e)) child.kill('SIGKILL');
      } catch {
        /* not an event */
      }
    });
    child.stderr.resume();
    child.on('close', (_code, signal) => resolve({ events, signal }));
  });
}

async function committedRows(db: string, task: string): Promise<number> {
  const q = `SELECT coalesce(sum(rows), 0)::text AS n FROM pgferry.unit WHERE task_id = $1`;
  const r = await withClient(tgt.url(db), (c) => c.query<{ n: string }>(q, [task]));
  return Number(r.rows[0].n);
}

const status = (args: string[], e: NodeJS.ProcessEnv = env): Promise<CliRun> =>
  cli(['status', ...args, '--state-dir', stateDir], e);

test('killed mid-copy, resumed: status shows committed rows only; the report counts every run', async () => {
  const file = taskFile('resumed', 'appt');
  let tablesDone = 0;
  const first = await migrateUntil(file, (e) => {
    if (e.type === 'table-done') tablesDone++;
    const slowInFlight = e.type === 'progress' && e.active.some((a) => a.table === 'public.slow' && a.rows >= 2000);
    return tablesDone >= 2 && slowInFlight;
  });
  assert.equal(first.signal, 'SIGKILL', 'killed while public.slow was being copied');
  const lastProgress = first.events.filter((e) => e.type === 'progress').pop()!;
  const committed = await committedRows('appt', 'resumed');
  assert.ok(lastProgress.type === 'progress' && lastProgress.rows > committed, 'rows were in flight when killed');

  const s1 = await status(['resumed', '--json']);
  assert.equal(s1.code, 1, `a stopped task exits 1\n${s1.stderr}`);
  const j1 = JSON.parse(s1.stdout);
  assert.equal(j1.status, 'interrupted');
  assert.equal(j1.copied.from, 'checkpoints');
  assert.equal(j1.copied.rows, committed, 'rows of the rolled-back unit are not counted');
  assert.equal(j1.copied.tablesSelected, 5);
  assert.equal(j1.tables.find((t: { table: string }) => t.table === 'public.slow').rows, 0);
  assert.deepEqual(j1.limits, { jobs: 1, maxRowsPerSec: 4000, maxBytesPerSec: null, from: 'task' });
  const text1 = (await status(['resumed'])).stdout;
  assert.match(text1, /limits: 1 job, 4,000 rows\/s, bytes\/s unlimited \(from task\)/);
  const copiedLine = `copied: ${committed.toLocaleString('en-US')} rows, .*; \\d of 5 tables done \\(committed on the target\\)`;
  assert.match(text1, new RegExp(copiedLine));

  // without the password: status says which credentials it tried and how to give them
  const noPw = await status(['resumed'], { ...env, HOME: join(home, 'nowhere') });
  assert.match(
    noPw.stdout,
    /target checkpoints: tgt_owner@127\.0\.0\.1:\d+\/appt not readable with the task's target and no password \(none in PGPASSWORD or ~\/\.pgpass\)/,
  );
  assert.match(noPw.stdout, /add a ~\/\.pgpass line 127\.0\.0\.1:\d+:appt:tgt_owner:<password>/);
  const wrongUrl = `postgresql://tgt_owner:nope-wrong@127.0.0.1:${tgt.port}/appt?sslmode=disable`;
  const wrong = await status(['resumed', '--target', wrongUrl]);
  assert.match(wrong.stdout, /not readable with the --target given: .*password authentication failed/);
  assert.doesNotMatch(wrong.stdout + wrong.stderr, /nope-wrong/);

  const thr = await cli(['throttle', 'resumed', '--rows', 'off', '--bytes', '50MB', '--state-dir', stateDir], env);
  assert.equal(thr.code, 0, thr.stderr);
  const j2 = JSON.parse((await status(['resumed', '--json'])).stdout);
  assert.deepEqual(j2.limits, { jobs: 1, maxRowsPerSec: null, maxBytesPerSec: 50 * 1024 * 1024, from: 'control.json' });

  const second = await cli(['migrate', '--task', file], env);
  assert.equal(second.code, 0, second.stderr);
  const report = JSON.parse(readFileSync(join(stateDir, 'resumed', 'report.json'), 'utf8'));
  assert.equal(report.totals.from, 'checkpoints');
  assert.equal(report.totals.tables, 5);
  assert.equal(report.totals.rows, EXPECTED_ROWS);
  assert.equal(report.totals.rows, await committedRows('appt', 'resumed'));
  assert.ok(report.thisRun.tables < 5 && report.thisRun.rows < EXPECTED_ROWS, JSON.stringify(report.thisRun));
  assert.equal(report.tables.length, 5);
  assert.ok(report.totals.objects >= 5 && report.objectsDone.table === 5, JSON.stringify(report.objectsDone));
  assert.deepEqual(report.selection.includeSchemas, ['public']);
  assert.deepEqual(report.selection.tables, [
    { table: 'public.users', columns: ['id', 'email'], rename: 'app_users', columnMap: { email: 'email_address' } },
    { table: 'public.events', where: 'id % 2 = 0' },
  ]);
  const md = readFileSync(join(stateDir, 'resumed', 'report.md'), 'utf8');
  assert.match(
    md,
    /table public\.users: renamed to app_users; columns id, email; columns renamed email → email_address/,
  );
  assert.match(md, /table public\.events: rows where id % 2 = 0/);
  assert.match(md, /schemas included: public/);
  assert.match(md, new RegExp(`data: 5 tables, ${EXPECTED_ROWS.toLocaleString('en-US')} rows`));
  const whole = `data: 5 tables, ${EXPECTED_ROWS.toLocaleString('en-US')} rows, .* \\(whole task, every run; this run: `;
  assert.match(second.stdout, new RegExp(whole));
  for (const text of [md, JSON.stringify(report), second.stdout, second.stderr]) {
    assert.doesNotMatch(text, new RegExp(`${SRC_PW}|${TGT_PW}`));
  }

  const s3 = await status(['resumed', '--json']);
  assert.equal(s3.code, 0, s3.stderr);
  const j3 = JSON.parse(s3.stdout);
  assert.equal(j3.copied.rows, EXPECTED_ROWS);
  assert.equal(j3.copied.tablesDone, 5);
});

test('a blocked migrate prints each blocking item with its objects and fix (exit 4); status of it exits 1', async () => {
  await withClient(tgt.url('blocked'), (c) =>
    c.query(`CREATE TABLE public.a (x int); CREATE TABLE public.b (x int);
    ALTER TABLE public.a OWNER TO tgt_owner; ALTER TABLE public.b OWNER TO tgt_owner`),
  );
  const file = taskFile('blocked', 'blocked');
  const r = await cli(['migrate', '--task', file], env);
  assert.equal(r.code, 4, r.stderr);
  assert.match(
    r.stderr,
    /precheck failed: 1 blocking item\n\s+conflicts\.target: .*\n\s+- public\.a\b.*\n\s+- public\.b\b.*\n\s+fix: /,
  );
  assert.doesNotMatch(r.stderr, /run `pgferry precheck`/);
  const s = await status(['blocked']);
  assert.equal(s.code, 1);
  assert.match(s.stdout, /task blocked: FAILED/);
  assert.match(s.stdout, /error: precheck failed/);
});

test('a wrong password exits 3, for migrate and verify, and is never printed', async () => {
  const bad = `postgresql://tgt_owner:Wr0ng-pass@127.0.0.1:${tgt.port}/appt?sslmode=disable`;
  for (const cmd of ['migrate', 'verify']) {
    const extra = cmd === 'migrate' ? ['--name', 'wrongpw', '--state-dir', stateDir] : [];
    const r = await cli([cmd, '-s', srcUrl(), '-t', bad, ...extra], env, 60_000);
    assert.equal(r.code, 3, `${cmd}: ${r.stderr}`);
    assert.match(r.stderr, /password authentication failed/);
    assert.doesNotMatch(r.stdout + r.stderr, /Wr0ng-pass/);
  }
});

test('TTY progress in a pseudo-terminal of 80 columns: nothing wraps, nothing stale is left', async () => {
  const file = taskFile('tty', 'apptty');
  // stderr (the progress) is the terminal; stdout (the summary, not redrawn) goes to a file
  const summary = join(home, 'tty-summary.txt');
  const run = `${process.execPath} --import tsx test/helpers/cli.ts migrate --task ${file}`;
  const cmd = `stty cols 80 rows 24; exec ${run} > ${summary}`;
  const raw = await new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn('script', ['-qfec', cmd, '/dev/null'], { env: childEnv(env) });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.resume();
    child.on('close', (code) => resolve({ code, out }));
  });
  assert.equal(raw.code, 0, raw.out);
  assert.match(raw.out, /[█░]{16} public\.slow/, 'progress bars were drawn');
  const vt = new VirtualTerminal(80);
  vt.write(raw.out);
  assert.equal(vt.wraps, 0, vt.text().join('\n'));
  const screen = vt.text();
  assert.deepEqual(
    screen.filter((l) => /[█░]|building index|post-data:/.test(l)),
    [],
    'no live rows left',
  );
  for (const t of ['public.a', 'public.b', 'public.slow']) {
    assert.equal(screen.filter((l) => l.includes(`✔ ${t}:`)).length, 1, t);
  }
  assert.ok(
    screen.some((l) => /^✔ post-data/.test(l)),
    screen.join('\n'),
  );
  assert.match(readFileSync(summary, 'utf8'), /data: 5 tables, /);
});

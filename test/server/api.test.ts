// pgferry serve over real HTTP against real servers: a task created, prechecked, started and
// followed through the API as least-privilege accounts, ending equal to its source; Server-Sent
// Events replayed from Last-Event-ID without gap or duplicate; a wrong password is not retried;
// stop holds across server restarts while a running task resumes; a task run by `pgferry migrate`
// shows in the API; bad requests get 400/404/409 with cause and fix; no password anywhere.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { sampleDatabaseSql } from '../../src/dev/demo/sample.js';
import { startServer, type RunningServer } from '../../src/server/app.js';
import { PgTaskStore } from '../../src/state/pg-store.js';
import { tableHashes, withClient } from '../helpers/compare.js';
import { cli, cliInProcess } from '../cli/run.js';
import { passwordHba, sourceAccount, targetAccount } from '../embed/accounts.js';
import { apiClient, followEvents, waitForTask, type Api, type SseEvent } from './helpers.js';

const PW = {
  src: 'Src-pw-8812-q',
  tgt1: 'Tgt-pw-3391-w',
  tgt2: 'Tgt-pw-7720-e',
  tgt3: 'Tgt-pw-5521-r',
  bad: 'Wrong-pw-4409',
};
const ALL_PW = Object.values(PW);
let pg: Cluster;
let server: RunningServer;
let api: Api;
let srcUrl: string;
const dataDir = mkdtempSync(join(tmpdir(), 'pgferry-serve-'));
const raws: string[] = [];
const responses: string[] = [];
const backoff = { baseMs: 300, maxMs: 1000, maxAttempts: 5 };

async function boot(): Promise<RunningServer> {
  server = await startServer({ port: 0, dataDir, backoff, log: () => {} });
  api = apiClient(server, responses);
  return server;
}

before(async () => {
  pg = await startCluster({
    version: 15,
    name: 'pgferry-serve',
    hba: passwordHba(['srv_src', 'srv_t1', 'srv_t2', 'srv_t3']),
  });
  await withClient(pg.url(), (c) => c.query('CREATE DATABASE shop_src'));
  await withClient(pg.url('shop_src'), (c) => c.query(sampleDatabaseSql(0.1)));
  srcUrl = await sourceAccount(pg, 'shop_src', 'srv_src', PW.src, ['shop', 'public']);
  await boot();
});

after(async () => {
  await server?.close();
  await pg?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const common = { noOwner: true, noAcl: true, jobs: 2 };

/** Every file under the data dir, as text. */
function dataDirText(dir = dataDir): string {
  return readdirSync(dir)
    .map((n) => join(dir, n))
    .map((p) => (statSync(p).isDirectory() ? dataDirText(p) : readFileSync(p, 'latin1')))
    .join('\n');
}

function assertNoPassword(where: string, text: string): void {
  for (const pw of ALL_PW) assert.ok(!text.includes(pw), `a password appears in ${where}`);
}

const states = (events: SseEvent[]) => events.filter((e) => e.event !== 'progress').map((e) => e.id);

test('a task through the API as least-privilege accounts: precheck, start, events to the end, report, target equals source; Last-Event-ID resumes the stream without gap or duplicate', async () => {
  const tgtUrl = await targetAccount(pg, 'shop_t1', 'srv_t1', PW.tgt1);
  const created = await api.call('POST', '/api/tasks', {
    name: 'api-one',
    source: srcUrl,
    target: tgtUrl,
    verify: 'hash',
    ...common,
  });
  assert.equal(created.status, 201, created.text);
  assert.equal(created.body.status, 'created');
  assert.match(created.body.config.target, /:\*{8}@/, 'the password is shown masked');

  const pre = await api.call('POST', '/api/tasks/api-one/precheck');
  assert.equal(pre.status, 200, pre.text);
  assert.equal(pre.body.ok, true, pre.text);
  assert.ok(pre.body.items.length > 5);
  assert.ok(pre.body.items.every((i: any) => ['pass', 'warning', 'fail', 'skipped'].includes(i.result)));
  assert.deepEqual((await api.call('GET', '/api/tasks/api-one/precheck')).body.items, pre.body.items);

  const started = await api.call('POST', '/api/tasks/api-one/start');
  assert.equal(started.status, 202, started.text);
  // a first client reads a few events and drops; a second one reconnects with the last id it got
  const first = await followEvents(server, 'api-one', { until: (_e, all) => all.length >= 6 });
  const lastId = first.events.at(-1)!.id;
  const second = await followEvents(server, 'api-one', {
    lastEventId: lastId,
    until: (e) => e.event === 'task-end',
  });
  const whole = await followEvents(server, 'api-one', { until: (e) => e.event === 'task-end' });
  raws.push(first.raw, second.raw, whole.raw);
  const got = [...first.events, ...second.events].map((e) => e.id);
  assert.deepEqual(
    got,
    [...got].sort((a, b) => a - b),
    'ids only go up',
  );
  assert.equal(new Set(got).size, got.length, 'no event twice');
  assert.deepEqual(states([...first.events, ...second.events]), states(whole.events), 'no event missing');
  assert.ok(whole.events.every((e) => e.data.task === 'api-one' && e.data.seq === e.id));
  assert.equal(second.events.at(-1)!.data.ok, true);

  const done = await waitForTask(api, 'api-one', (t) => t.status === 'done');
  assert.equal(done.attempts, 1);
  assert.deepEqual(
    done.stages.map((s: any) => s.status),
    ['done', 'done', 'done', 'done', 'done'],
  );
  assert.ok(done.tables.length >= 4 && done.tables.every((t: any) => t.status === 'done'));
  assert.equal(done.progress.rowsDone, done.progress.rowsTotal);
  const report = await api.call('GET', '/api/tasks/api-one/report');
  assert.equal(report.status, 200);
  assert.equal(report.body.status, 'done');
  assert.equal(report.body.verification.ok, true);
  const md = await api.call('GET', '/api/tasks/api-one/report.md');
  assert.match(md.text, /api-one/);
  assert.deepEqual(await tableHashes(pg.url('shop_t1')), await tableHashes(pg.url('shop_src')));
  const list = await api.call('GET', '/api/tasks');
  assert.equal(list.body.tasks.find((t: any) => t.id === 'api-one')?.status, 'done');

  // verify again on demand, then finish: checkpoints gone from the target, account clean-up SQL returned
  await withClient(pg.url('shop_t1'), (c) =>
    c.query('DELETE FROM shop.order_items WHERE ctid IN (SELECT ctid FROM shop.order_items LIMIT 1)'),
  );
  assert.equal((await api.call('POST', '/api/tasks/api-one/verify')).status, 202);
  await waitForTask(api, 'api-one', (t) => t.status === 'mismatch' && t.runner === 'none');
  const finished = await api.call('POST', '/api/tasks/api-one/finish');
  assert.equal(finished.status, 202, finished.text);
  assert.match(finished.body.cleanupSql, /DROP ROLE srv_t1;/);
  assert.match(finished.body.cleanupSql, /DROP ROLE srv_src;/);
  const left = await withClient(pg.url('shop_t1'), (c) =>
    c.query("SELECT 1 FROM pg_namespace WHERE nspname = 'pgferry'"),
  );
  assert.equal(left.rowCount, 0, 'the checkpoint schema is gone');
  // `pgferry finish` of the same task prints the same clean-up SQL (the checkpoints are gone already)
  const byCli = await cli(['finish', 'api-one', '--state-dir', dataDir, '--target', tgtUrl, '--source', srcUrl]);
  assert.equal(byCli.code, 0, byCli.stderr);
  const cliSql = byCli.stdout.slice(byCli.stdout.indexOf('Remove the migration accounts'));
  assert.equal(finished.body.cleanupSql, cliSql);
  assert.match(cliSql, /REASSIGN OWNED BY srv_t1 TO <app_owner>;\nDROP OWNED BY srv_t1;\nDROP ROLE srv_t1;/);
  assertNoPassword('pgferry finish output', byCli.stdout + byCli.stderr);
});

test('a permanent failure (wrong password) is not retried', async () => {
  await targetAccount(pg, 'shop_t2', 'srv_t2', PW.tgt2);
  const target = pg.url('shop_t2', 'srv_t2', PW.bad);
  const r = await api.call('POST', '/api/tasks', { name: 'api-badpw', source: srcUrl, target, ...common });
  assert.equal(r.status, 201, r.text);
  assert.equal((await api.call('POST', '/api/tasks/api-badpw/start')).status, 202);
  const failed = await waitForTask(api, 'api-badpw', (t) => t.status === 'failed');
  assert.match(failed.error.cause, /password authentication failed/);
  assert.ok(failed.error.fix.length > 0);
  await new Promise((ok) => setTimeout(ok, 3 * backoff.baseMs + 500));
  const later = (await api.call('GET', '/api/tasks/api-badpw')).body;
  assert.equal(later.status, 'failed');
  assert.equal(later.attempts, 1, 'no second attempt');
  assert.equal(later.nextAttemptAt, undefined);
});

test('stop is never resumed, also across server restarts; a task running when the server stops resumes with it', async () => {
  const tgtUrl = await targetAccount(pg, 'shop_t3', 'srv_t3', PW.tgt3);
  const task = { name: 'api-stop', source: srcUrl, target: tgtUrl, ...common, copy: { maxRowsPerSec: 800 } };
  assert.equal((await api.call('POST', '/api/tasks', task)).status, 201);
  assert.equal((await api.call('POST', '/api/tasks/api-stop/start')).status, 202);
  await followEvents(server, 'api-stop', { until: (e) => e.event === 'unit-done' });
  // while it runs: no second start, no change, no delete
  for (const [method, path, body] of [
    ['POST', '/api/tasks/api-stop/start', undefined],
    ['PUT', '/api/tasks/api-stop', task],
    ['DELETE', '/api/tasks/api-stop', undefined],
  ] as const) {
    const c = await api.call(method, path, body);
    assert.equal(c.status, 409, `${method} ${path}: ${c.text}`);
    assert.ok(c.body.error.cause && c.body.error.fix);
  }
  const paused = await api.call('POST', '/api/tasks/api-stop/pause');
  assert.equal(paused.body.status, 'paused');
  assert.equal((await api.call('POST', '/api/tasks/api-stop/resume')).body.status, 'running');

  await server.close(); // the run is interrupted, not stopped
  await boot();
  assert.deepEqual(server.resumed, ['api-stop']);
  await waitForTask(api, 'api-stop', (t) => t.status === 'running' && t.attempts === 2);
  const stopped = await api.call('POST', '/api/tasks/api-stop/stop');
  assert.equal(stopped.status, 202);
  await waitForTask(api, 'api-stop', (t) => t.status === 'stopped' && t.runner === 'none');

  await server.close();
  await boot();
  assert.deepEqual(server.resumed, []);
  await new Promise((ok) => setTimeout(ok, 1000));
  const still = (await api.call('GET', '/api/tasks/api-stop')).body;
  assert.equal(still.status, 'stopped');
  assert.equal(still.runner, 'none');

  // started again by hand, limits lifted live: it completes and equals the source
  const limits = await api.call('PATCH', '/api/tasks/api-stop/limits', { rowsPerSec: null, jobs: 3 });
  assert.equal(limits.status, 200, limits.text);
  assert.equal(limits.body.rowsPerSec, null);
  assert.equal(limits.body.jobs, 3);
  assert.equal((await api.call('POST', '/api/tasks/api-stop/start')).status, 202);
  const done = await waitForTask(api, 'api-stop', (t) => t.status === 'done');
  assert.equal(done.attempts, 1);
  assert.deepEqual(await tableHashes(pg.url('shop_t3')), await tableHashes(pg.url('shop_src')));
});

test('a task run by pgferry migrate with the same state dir shows in the API', async () => {
  await withClient(pg.url(), (c) => c.query('CREATE DATABASE shop_cli'));
  const r = await cliInProcess([
    'migrate',
    ...['-s', pg.url('shop_src'), '-t', pg.url('shop_cli'), '--name', 'cli-task', '--state-dir', dataDir],
    ...['--no-owner', '--no-acl', '--json'],
  ]);
  assert.equal(r.code, 0, r.stderr);
  const t = (await api.call('GET', '/api/tasks')).body.tasks.find((x: any) => x.id === 'cli-task');
  assert.equal(t?.status, 'done');
  const detail = (await api.call('GET', '/api/tasks/cli-task')).body;
  assert.ok(detail.tables.length >= 4);
  assert.equal((await api.call('GET', '/api/tasks/cli-task/report')).body.status, 'done');
  // and the reverse: a task the server ran, read by pgferry status
  const status = await cliInProcess(['status', 'api-stop', '--state-dir', dataDir]);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /api-stop/);
});

test('bad requests: 400, 404 and 409 with cause and fix', async () => {
  const expect = async (method: string, path: string, body: unknown, status: number, field?: string) => {
    const r = await api.call(method, path, body);
    assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
    assert.ok(r.body.error.cause.length > 0 && r.body.error.fix.length > 0 && r.body.error.code, r.text);
    if (field) assert.equal(r.body.error.field, field, r.text);
    return r.body.error;
  };
  const idle = { name: 'api-idle', source: srcUrl, target: pg.url('shop_nowhere', 'srv_t1', PW.tgt1) };
  assert.equal((await api.call('POST', '/api/tasks', idle)).status, 201);
  await expect('POST', '/api/tasks', '{"name": ', 400);
  const unknown = await expect('POST', '/api/tasks', { ...idle, name: 'x1', jobz: 2 }, 400, 'jobz');
  assert.match(unknown.cause, /did you mean "jobs"/);
  await expect('POST', '/api/tasks', { ...idle, name: 'x2', jobs: 0 }, 400, 'jobs');
  await expect('POST', '/api/tasks', { ...idle, name: 'x3', stateDir: '/tmp' }, 400, 'stateDir');
  await expect('POST', '/api/tasks', { ...idle, name: 'x4', source: 'postgresql://a@h:notaport/db' }, 400);
  const both = { ...idle, name: 'x5', distributed: true, incremental: true };
  const combined = await expect('POST', '/api/tasks', both, 400, 'distributed');
  assert.match(combined.cause, /distributed: a distributed task cannot be incremental yet/);
  assert.match(combined.fix, /leave out distributed \(--distributed\) or incremental \(--incremental\)/);
  await expect('POST', '/api/tasks', idle, 409);
  await expect('PUT', '/api/tasks/api-idle', { ...idle, name: 'other' }, 400, 'name');
  await expect('GET', '/api/tasks/nope', undefined, 404);
  await expect('POST', '/api/tasks/nope/start', undefined, 404);
  await expect('GET', '/api/tasks/nope/events', undefined, 404);
  await expect('GET', '/api/tasks/..%2Fetc/report', undefined, 404);
  await expect('GET', '/api/tasks/api-idle/report', undefined, 404);
  await expect('GET', '/api/tasks/api-idle/precheck', undefined, 404);
  await expect('POST', '/api/tasks/api-idle/pause', undefined, 409);
  await expect('PATCH', '/api/tasks/api-idle/limits', { jobs: 0 }, 400, 'jobs');
  await expect('PATCH', '/api/tasks/api-idle/limits', { rowsPerSec: 'fast' }, 400, 'rowsPerSec');
  await expect('GET', '/api/nothing', undefined, 404);
  const conn = await api.call('POST', '/api/connections/test', { connection: pg.url('shop_src', 'srv_src', PW.bad) });
  assert.equal(conn.body.ok, false);
  assert.equal(conn.body.error.code, 'auth_failed');
  const good = await api.call('POST', '/api/connections/test', {
    connection: {
      host: pg.host,
      port: pg.port,
      database: 'shop_src',
      user: 'srv_src',
      password: PW.src,
      sslmode: 'disable',
    },
  });
  assert.equal(good.body.ok, true, good.text);
  const cat = await api.call('POST', '/api/catalog', { connection: srcUrl });
  const shop = cat.body.schemas.find((s: any) => s.name === 'shop');
  assert.ok(shop.tables.some((t: any) => t.name === 'orders' && t.columns.length > 2));
  // a task whose stored connections cannot be read: refused with cause and fix, the server goes on
  writeFileSync(join(dataDir, 'api-idle', 'secrets.enc'), 'v1.garbage.garbage.garbage');
  const unreadable = await expect('POST', '/api/tasks/api-idle/start', undefined, 409);
  assert.match(unreadable.cause, /cannot be decrypted/);
  assert.equal((await api.call('GET', '/api/health')).body.ok, true);
  assert.equal((await api.call('GET', '/api/tasks/api-idle')).body.config.target, pg.url('shop_nowhere', 'srv_t1'));
  assert.equal((await api.call('DELETE', '/api/tasks/api-idle')).status, 200);
  await expect('GET', '/api/tasks/api-idle', undefined, 404);
  const doc = await api.call('GET', '/api/openapi.json');
  assert.equal(doc.body.openapi, '3.1.0');
  assert.ok(doc.body.components.schemas.Task.properties.source);
});

test('with a PostgreSQL task store, task records live in the database, without passwords', async () => {
  await withClient(pg.url(), (c) => c.query('CREATE DATABASE task_store'));
  const storeDir = mkdtempSync(join(tmpdir(), 'pgferry-serve-store-'));
  const store = new PgTaskStore(pg.url('task_store'));
  const other = await startServer({ port: 0, dataDir: storeDir, store, log: () => {} });
  try {
    const a = apiClient(other, responses);
    const target = pg.url('shop_t1', 'srv_t1', PW.tgt1);
    assert.equal((await a.call('POST', '/api/tasks', { name: 'in-pg', source: srcUrl, target })).status, 201);
    const rows = await withClient(pg.url('task_store'), (c) => c.query('SELECT * FROM pgferry_store.task'));
    assert.deepEqual(
      rows.rows.map((r) => r.id ?? r.task_id),
      ['in-pg'],
    );
    assertNoPassword('the task store', JSON.stringify(rows.rows));
    assert.deepEqual(
      (await a.call('GET', '/api/tasks')).body.tasks.map((t: any) => t.id),
      ['in-pg'],
    );
    assert.equal((await a.call('DELETE', '/api/tasks/in-pg')).status, 200);
    assert.equal((await a.call('GET', '/api/tasks/in-pg')).status, 404);
    assert.deepEqual((await a.call('GET', '/api/tasks')).body.tasks, []);
  } finally {
    await other.close();
    rmSync(storeDir, { recursive: true, force: true });
  }
});

test('no password in any response, event stream or file under the data dir', () => {
  assert.ok(api.seen.length > 0 && raws.length === 3);
  assertNoPassword('an API response', api.seen.join('\n'));
  assertNoPassword('an event stream', raws.join('\n'));
  assertNoPassword('the data dir', dataDirText());
});

// pgferry serve's gate and operations against a real PostgreSQL 15: every route of the router's
// table refuses a request without the token or with a wrong one (401, cause and fix), the Host
// header of a rebound DNS name is refused, no CORS header is sent; the token file is 0600 and
// reused across restarts; /metrics parses and its counters move with a real least-privilege
// migration (rows copied = the source's rows); /healthz fails while the PostgreSQL task store is
// down; the log is JSON lines without a password or the token; `pgferry serve` on a non-loopback
// address warns.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { request as tlsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { sampleDatabaseSql } from '../../src/dev/demo/sample.js';
import { startServer, type RunningServer } from '../../src/server/app.js';
import { TOKEN_FILE } from '../../src/server/auth.js';
import { PgTaskStore } from '../../src/state/pg-store.js';
import { withClient } from '../helpers/compare.js';
import { selfSigned } from '../helpers/certs.js';
import { passwordHba, sourceAccount, targetAccount } from '../embed/accounts.js';
import { startServe } from '../console/serve.js';
import { apiClient, metric, parseMetrics, pgCtl, waitForTask, type Api } from './helpers.js';

const PW = { src: 'Auth-src-pw-6612', tgt: 'Auth-tgt-pw-2290', bad: 'Auth-bad-pw-0417' };
let pg: Cluster;
let server: RunningServer;
let api: Api;
let srcUrl: string;
const dataDir = mkdtempSync(join(tmpdir(), 'pgferry-auth-'));
const logLines: string[] = [];
const tokens: string[] = [];

before(async () => {
  pg = await startCluster({ version: 15, name: 'pgferry-auth', hba: passwordHba(['auth_src', 'auth_tgt']) });
  await withClient(pg.url(), (c) => c.query('CREATE DATABASE shop'));
  await withClient(pg.url('shop'), (c) => c.query(sampleDatabaseSql(0.05)));
  srcUrl = await sourceAccount(pg, 'shop', 'auth_src', PW.src, ['shop', 'public']);
  server = await startServer({
    port: 0,
    dataDir,
    backoff: { baseMs: 300, maxMs: 1000, maxAttempts: 3 },
    log: (l) => logLines.push(l),
    logFormat: 'json',
    env: {},
  });
  tokens.push(server.token);
  api = apiClient(server);
});

after(async () => {
  await server?.close();
  await pg?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** A raw request: any headers, the Host header included. */
function raw(
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  const url = new URL(path, server.url);
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, timeout: 30_000 });
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => {
        text += d;
        // an event stream does not end: what came first is enough
        if (res.headers['content-type']?.startsWith('text/event-stream')) req.destroy();
      });
      const done = () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text });
      res.on('end', done);
      res.on('close', done);
    });
    req.end();
  });
}

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

test('every route of the table refuses a request without the token or with a wrong one; only /healthz is open', async () => {
  const open = server.routes.filter((r) => r.open).map((r) => `${r.method} ${r.pattern}`);
  assert.deepEqual(open, ['GET /healthz']);
  assert.ok(server.routes.length >= 20, `${server.routes.length} routes`);
  const paths = [
    ...server.routes.map((r) => ({ method: r.method, path: r.pattern.replace(/:id/g, 'no-such-task') })),
    { method: 'GET', path: '/api/no-such-endpoint' },
    { method: 'OPTIONS', path: '/api/tasks' },
  ].filter((r) => r.path !== '/healthz');
  for (const { method, path } of paths) {
    for (const headers of [{}, bearer('wrong-token-0000000000000000'), { authorization: `Basic ${server.token}` }]) {
      const r = await raw(method, path, headers);
      assert.equal(r.status, 401, `${method} ${path} with ${JSON.stringify(headers)}: ${r.text}`);
      const error = JSON.parse(r.text).error;
      assert.equal(error.code, 'unauthorized');
      assert.ok(error.cause && error.fix.includes('Authorization: Bearer'), r.text);
      assert.ok(error.fix.includes(join(dataDir, TOKEN_FILE)), 'the fix names the token file');
      assert.equal(r.headers['www-authenticate'], 'Bearer realm="pgferry"');
      assert.ok(!r.text.includes(server.token), 'a 401 never shows the token');
    }
  }
  // with the token the same routes answer (404 for the task that does not exist, never 401)
  for (const { method, path } of paths.filter((p) => p.method === 'GET' && !p.path.endsWith('/events'))) {
    const r = await raw(method, path, bearer(server.token));
    assert.notEqual(r.status, 401, `${method} ${path}: ${r.text}`);
  }
  // the console's files load without the token: the console asks for it itself
  const index = await raw('GET', `/?token=${server.token}`);
  assert.equal(index.status, 200);
  assert.match(index.text, /pgferry console/);
  assert.equal((await raw('GET', '/healthz')).status, 200);
});

test('a Host that names another site (DNS rebinding) is refused, token or not; no CORS header is ever sent', async () => {
  const port = new URL(server.url).port;
  for (const host of [`evil.example:${port}`, `127.0.0.1.nip.example:${port}`, 'localhost.evil.example']) {
    for (const path of ['/api/tasks', '/', '/healthz', '/metrics']) {
      const r = await raw('GET', path, { host, ...bearer(server.token) });
      assert.equal(r.status, 403, `${host} ${path}: ${r.text}`);
      assert.equal(JSON.parse(r.text).error.code, 'bad_host');
      assert.match(JSON.parse(r.text).error.fix, /--allow-host/);
    }
  }
  for (const host of [`localhost:${port}`, `127.0.0.1:${port}`]) {
    assert.equal((await raw('GET', '/api/tasks', { host, ...bearer(server.token) })).status, 200, host);
  }
  const origin = { origin: 'http://evil.example', 'access-control-request-method': 'POST' };
  for (const [method, headers] of [
    ['OPTIONS', origin],
    ['GET', { ...origin, ...bearer(server.token) }],
  ] as const) {
    const r = await raw(method, '/api/tasks', headers);
    const cors = Object.keys(r.headers).filter((h) => h.startsWith('access-control-'));
    assert.deepEqual(cors, [], `${method}: ${JSON.stringify(r.headers)}`);
  }
});

test('the token file is 0600 and reused across restarts; a token given instead replaces it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgferry-auth-restart-'));
  try {
    const first = await startServer({ port: 0, dataDir: dir, log: () => {}, env: {} });
    const file = join(dir, TOKEN_FILE);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(readFileSync(file, 'utf8').trim(), first.token);
    assert.ok(first.token.length >= 32);
    assert.equal(first.consoleUrl, `${first.url}/?token=${first.token}`);
    await first.close();
    const second = await startServer({ port: 0, dataDir: dir, log: () => {}, env: {} });
    try {
      assert.equal(second.token, first.token, 'the same token after a restart');
      assert.equal((await apiClient(second).call('GET', '/api/tasks')).status, 200);
    } finally {
      await second.close();
    }
    const given = 'given-token-5b1f0c9e7d2a4c68';
    const third = await startServer({ port: 0, dataDir: dir, log: () => {}, env: { PGFERRY_TOKEN: given } });
    try {
      assert.equal(third.token, given);
      assert.equal((await apiClient({ url: third.url, token: first.token }).call('GET', '/api/tasks')).status, 401);
      assert.equal((await apiClient(third).call('GET', '/api/tasks')).status, 200);
    } finally {
      await third.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('/metrics needs the token, parses, and its counters move with a real migration: rows copied = source rows', async () => {
  assert.equal((await raw('GET', '/metrics')).status, 401);
  const before = parseMetrics((await api.call('GET', '/metrics')).text);
  assert.equal(metric(before, 'pgferry_rows_copied_total'), 0);
  const started = { method: 'POST', route: '/api/tasks/:id/start', status: '202' };
  const startsBefore = metric(before, 'pgferry_http_requests_total', started);

  const target = await targetAccount(pg, 'shop_copy', 'auth_tgt', PW.tgt);
  const task = { name: 'm1', source: srcUrl, target, noOwner: true, noAcl: true, jobs: 2 };
  assert.equal((await api.call('POST', '/api/tasks', task)).status, 201);
  assert.equal((await api.call('POST', '/api/tasks/m1/start')).status, 202);
  const done = await waitForTask(api, 'm1', (t) => t.status === 'done' || t.status === 'failed');
  assert.equal(done.status, 'done', JSON.stringify(done.error));

  const r = await api.call('GET', '/metrics');
  assert.equal(r.status, 200);
  assert.match(r.text, /^# HELP /m);
  const m = parseMetrics(r.text);
  const sourceRows = await withClient(pg.url('shop'), async (c) => {
    const tables = await c.query(
      `SELECT format('%I.%I', table_schema, table_name) AS t FROM information_schema.tables
       WHERE table_schema IN ('shop', 'public') AND table_type = 'BASE TABLE'`,
    );
    let n = 0;
    for (const { t } of tables.rows) n += Number((await c.query(`SELECT count(*) AS n FROM ${t}`)).rows[0].n);
    return n;
  });
  assert.ok(sourceRows > 1000, `${sourceRows} source rows`);
  assert.equal(metric(m, 'pgferry_rows_copied_total', { task: 'm1' }), sourceRows);
  assert.ok(metric(m, 'pgferry_bytes_copied_total', { task: 'm1' }) > sourceRows, 'bytes copied');
  assert.equal(metric(m, 'pgferry_tasks', { state: 'done' }), 1);
  assert.equal(metric(m, 'pgferry_tasks', { state: 'running' }), 0);
  assert.equal(metric(m, 'pgferry_copy_rows_per_second', { task: 'm1' }), 0, 'no copy runs any more');
  assert.equal(metric(m, 'pgferry_http_requests_total', started) - startsBefore, 1);
  assert.ok(metric(m, 'pgferry_http_requests_total', { status: '401' }) >= 1, 'refused requests counted');
  assert.ok(metric(m, 'pgferry_http_request_duration_seconds_count', { route: '/api/tasks/:id' }) >= 1);
  assert.ok(
    m.some((s) => s.name === 'process_cpu_seconds_total'),
    'the process metrics',
  );

  // a permanent failure: counted by state, logged with its cause, never with the password
  const bad = { ...task, name: 'm-bad', target: pg.url('shop_copy', 'auth_tgt', PW.bad) };
  assert.equal((await api.call('POST', '/api/tasks', bad)).status, 201);
  assert.equal((await api.call('POST', '/api/tasks/m-bad/start')).status, 202);
  await waitForTask(api, 'm-bad', (t) => t.status === 'failed');
  const after = parseMetrics((await api.call('GET', '/metrics')).text);
  assert.equal(metric(after, 'pgferry_tasks', { state: 'failed' }), 1);

  // a deleted task's series leave /metrics at once, the other tasks' stay
  assert.equal((await api.call('DELETE', '/api/tasks/m1')).status, 200);
  const gone = parseMetrics((await api.call('GET', '/metrics')).text);
  assert.deepEqual(
    gone.filter((s) => s.labels.task === 'm1').map((s) => s.name),
    [],
    'no series of the deleted task',
  );
  assert.equal(metric(gone, 'pgferry_tasks', { state: 'done' }), 0);
  assert.ok(
    gone.some((s) => s.labels.task === 'm-bad'),
    'the other task keeps its series',
  );

  // --metrics-public: /metrics without the token, the API still closed
  const dir = mkdtempSync(join(tmpdir(), 'pgferry-auth-public-'));
  const pub = await startServer({ port: 0, dataDir: dir, log: () => {}, env: {}, metricsPublic: true });
  try {
    const open = await fetch(`${pub.url}/metrics`);
    assert.equal(open.status, 200);
    parseMetrics(await open.text());
    assert.equal((await fetch(`${pub.url}/api/tasks`)).status, 401);
  } finally {
    await pub.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the log is one JSON object a line, requests with method/path/status/duration, no password or token', () => {
  assert.ok(logLines.length > 20, `${logLines.length} lines`);
  const entries = logLines.map((l) => JSON.parse(l) as Record<string, unknown>);
  for (const e of entries) {
    assert.equal(typeof e.time, 'string');
    assert.ok(['info', 'warn', 'error'].includes(e.level as string));
    assert.equal(typeof e.msg, 'string');
  }
  const requests = entries.filter((e) => e.msg === 'request');
  assert.ok(requests.some((e) => e.method === 'POST' && e.path === '/api/tasks/m1/start' && e.status === 202));
  assert.ok(requests.every((e) => typeof e.durationMs === 'number' && typeof e.status === 'number'));
  assert.ok(requests.some((e) => e.status === 401));
  assert.ok(
    requests.some((e) => e.task === 'm1'),
    'requests about a task name it',
  );
  assert.ok(entries.some((e) => e.msg === 'task run ended' && e.task === 'm1' && e.outcome === 'done'));
  const failed = entries.find((e) => e.msg === 'task failed' && e.task === 'm-bad');
  assert.match(String(failed?.cause), /password authentication failed/);
  const text = logLines.join('\n');
  for (const secret of [...Object.values(PW), ...tokens]) assert.ok(!text.includes(secret), 'a secret in the log');
  assert.ok(!text.includes('?token='), 'no console URL with its token in the log');
});

test('pgferry serve on a non-loopback address warns; its log on stdout is JSON lines without the token', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgferry-auth-cli-'));
  const served = await startServe(join(dir, 'data'), 120_000, {
    host: '0.0.0.0',
    args: ['--log-format', 'json'],
  });
  try {
    assert.equal((await served.fetch('/api/tasks')).status, 200);
    assert.equal((await fetch(`${served.url}/api/tasks`)).status, 401);
  } finally {
    await served.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const lines = served
    .log()
    .split('\n')
    .filter((l) => l.trim());
  const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const warning = entries.find((e) => e.level === 'warn' && /non-loopback/.test(String(e.msg)));
  assert.ok(warning, served.log());
  assert.match(String(warning.msg), /unencrypted/);
  assert.match(String(warning.fix), /reverse proxy that terminates TLS/);
  assert.ok(entries.some((e) => e.msg === 'listening' && e.tokenFrom === '$PGFERRY_TOKEN'));
  assert.ok(entries.some((e) => e.msg === 'request' && e.path === '/api/tasks' && e.status === 401));
  assert.ok(!served.output().includes(served.token), 'a token given is never printed');
  assert.match(
    served.output(),
    /pgferry console: http:\/\/0\.0\.0\.0:\d+\/ \(API token: the one given by \$PGFERRY_TOKEN\)/,
  );
});

test('/healthz answers 503 while the PostgreSQL task store is down, 200 again when it is back', async () => {
  await withClient(pg.url(), (c) => c.query('CREATE DATABASE task_store'));
  const dir = mkdtempSync(join(tmpdir(), 'pgferry-auth-store-'));
  const store = new PgTaskStore(pg.url('task_store'));
  const s = await startServer({ port: 0, dataDir: dir, store, log: () => {}, env: {} });
  try {
    const up = await fetch(`${s.url}/healthz`);
    assert.equal(up.status, 200);
    const body = await up.json();
    assert.equal(body.ok, true);
    assert.equal(body.checks.store.ok, true);
    pgCtl(pg, ['stop', '-D', pg.dataDir, '-m', 'fast', '-w', '-s']);
    try {
      const down = await fetch(`${s.url}/healthz`);
      assert.equal(down.status, 503);
      const open = await down.json();
      assert.equal(open.ok, false);
      assert.equal(open.checks.store.ok, false);
      assert.equal(open.checks.store.error, undefined, 'no detail without the token');
      const authed = await fetch(`${s.url}/healthz`, { headers: bearer(s.token) });
      assert.equal(authed.status, 503);
      assert.ok((await authed.json()).checks.store.error.length > 0, 'the cause, for whoever has the token');
      // /metrics still answers, saying the store is down
      const scrape = await fetch(`${s.url}/metrics`, { headers: bearer(s.token) });
      assert.equal(scrape.status, 200);
      const m = parseMetrics(await scrape.text());
      assert.ok(m.some((x) => x.name === 'pgferry_task_store_up' && x.value === 0));
      assert.ok(!m.some((x) => x.name === 'pgferry_tasks'), 'no task counts while they cannot be read');
    } finally {
      pgCtl(pg, ['start', '-D', pg.dataDir, '-w', '-s', '-l', pg.logFile, '-o', `-p ${pg.port}`]);
    }
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      status = (await fetch(`${s.url}/healthz`)).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(status, 200, 'ready again once the store is back');
    const back = parseMetrics(await (await fetch(`${s.url}/metrics`, { headers: bearer(s.token) })).text());
    assert.equal(metric(back, 'pgferry_task_store_up'), 1);
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('with --tls-cert/--tls-key the service speaks HTTPS only, and listening beyond loopback is then no warning', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgferry-auth-tls-'));
  const lines: string[] = [];
  selfSigned(dir, 'serve', { cn: '127.0.0.1', san: 'IP:127.0.0.1' });
  const tls = { cert: join(dir, 'serve.crt'), key: join(dir, 'serve.key') };
  const s = await startServer({
    host: '0.0.0.0',
    port: 0,
    dataDir: join(dir, 'data'),
    log: (l) => lines.push(l),
    logFormat: 'json',
    env: {},
    tls,
  });
  try {
    assert.match(s.url, /^https:\/\//);
    assert.match(s.consoleUrl, /^https:\/\/.*\/\?token=/);
    const port = new URL(s.url).port;
    const get = (headers: Record<string, string>) =>
      new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = tlsRequest(`https://127.0.0.1:${port}/api/tasks`, { headers, ca: readFileSync(tls.cert) });
        req.on('error', reject);
        req.on('response', (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        });
        req.end();
      });
    assert.equal((await get(bearer(s.token))).status, 200, 'the certificate verifies and the token is taken');
    assert.equal((await get({})).status, 401);
    await assert.rejects(fetch(`http://127.0.0.1:${port}/api/tasks`), 'plain HTTP gets no answer');
    assert.ok(!lines.some((l) => JSON.parse(l).level === 'warn'), lines.join('\n'));
  } finally {
    await s.close();
  }
  // a key that cannot be read: a clear error naming the file and the option
  await assert.rejects(
    startServer({
      port: 0,
      dataDir: join(dir, 'data'),
      log: () => {},
      env: {},
      tls: { ...tls, key: join(dir, 'nope.key') },
    }),
    /cannot read the TLS key .*nope\.key[\s\S]*|tls-key/,
  );
  rmSync(dir, { recursive: true, force: true });
});

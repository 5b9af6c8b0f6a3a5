// Distributed tasks of the service: `pgferry serve --control` runs a task created through the API
// with `distributed: true` as the coordinator (snapshot, schema, post-data, verify) while two
// `pgferry worker` processes copy its units; pause, resume, stop and start again work as for a task
// copied in the server, and the report and the target (hash-compared) come out as for one.
// The console's wizard offers the option (only on a server with a control database) and a task made
// with it runs on the workers too. Non-superuser accounts throughout; the server and the workers read the control database's password
// from their own ~/.pgpass, and no password reaches the control database, the API or the log.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../src/server/app.js';
import { type Served, startServe } from '../console/serve.js';
import { apiClient, followEvents, waitForTask } from '../server/helpers.js';
import { openBrowser } from '../console/browser.js';
import { appSchema, assertNoPassword, SRC_PW, TGT_PW, until, type Worker, workersFixture } from './fixture.js';

let served: Served | undefined;
// the server stops before the fixture's servers
const fx = workersFixture(
  {
    name: 'sd',
    sourceSql: appSchema(40000, 'CREATE INDEX small_v ON app.small (v);'),
  },
  async () => {
    await served?.stop();
  },
);
const dataDir = mkdtempSync(join(tmpdir(), 'pgferry-serve-dist-data-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

test('a task created through the API runs on two pgferry workers: pause, resume, stop, start, hash-verified', async () => {
  await fx.newTarget('shop');
  served = await startServe(dataDir, 120_000, { args: ['--control', fx.controlUrl()], env: fx.env() });
  const { api } = served;
  const workers: Worker[] = await Promise.all([fx.startWorker(), fx.startWorker()]);
  const task = {
    name: 'on-workers',
    source: fx.srcUrl,
    target: fx.targetUrl('shop'),
    distributed: true,
    noOwner: true,
    noAcl: true,
    verify: 'hash',
    copy: { splitThresholdMB: 1, unitMB: 0.5, maxRowsPerSec: 4000 },
  };
  const created = await api.call('POST', '/api/tasks', task);
  assert.equal(created.status, 201, created.text);
  assert.equal(created.body.config.distributed, true);
  assert.equal((await api.call('POST', '/api/tasks/on-workers/start')).status, 202);
  await followEvents(served, 'on-workers', { until: (e) => e.event === 'unit-done', timeoutMs: 120_000 });

  // pause: the workers learn it from the control database; the task reads paused
  assert.equal((await api.call('POST', '/api/tasks/on-workers/pause')).status, 202);
  assert.ok(await until(async () => (await fx.controlTask('on-workers'))?.paused === true), 'paused for the workers');
  assert.equal((await waitForTask(api, 'on-workers', (t) => t.status === 'paused', 30_000)).runner, 'server');
  assert.equal((await api.call('POST', '/api/tasks/on-workers/resume')).status, 202);
  assert.ok(await until(async () => (await fx.controlTask('on-workers'))?.paused === false), 'resumed for the workers');

  // stop: the coordinator ends, the task is no longer running for the workers; a start resumes it
  assert.equal((await api.call('POST', '/api/tasks/on-workers/stop')).status, 202);
  const stopped = await waitForTask(api, 'on-workers', (t) => t.status === 'stopped' && t.runner === 'none', 60_000);
  assert.equal(stopped.status, 'stopped');
  assert.equal((await fx.controlTask('on-workers'))?.running, false);
  assert.equal((await api.call('POST', '/api/tasks/on-workers/start')).status, 202);
  const done = await waitForTask(api, 'on-workers', (t) => ['done', 'failed', 'mismatch'].includes(t.status));
  assert.equal(done.status, 'done', JSON.stringify(done.error));

  await fx.assertSameRows('shop');
  const report = await api.call('GET', '/api/tasks/on-workers/report');
  assert.equal(report.status, 200, report.text);
  assert.equal(report.body.verification.ok, true, report.text);
  // the units were copied by the two workers, none by the server
  const all = await followEvents(served, 'on-workers', { until: (e) => e.event === 'task-end' && e.data.ok });
  const seen = all.events.filter((e) => e.event === 'workers').at(-1)?.data.workers as
    | { worker: string; pid: number; unitsDone: number }[]
    | undefined;
  const pids = new Set(workers.map((w) => w.child.pid));
  assert.ok(seen && seen.length === 2, JSON.stringify(seen));
  for (const w of seen) assert.ok(pids.has(w.pid) && w.unitsDone > 0, JSON.stringify(seen));
  await Promise.all(workers.map(fx.stopWorker));

  assertNoPassword([await fx.controlDump(), served.output(), all.raw, ...api.seen, ...workers.flatMap((w) => w.out)]);
});

test('a server without a control database refuses a distributed task, naming --control', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgferry-serve-nodist-'));
  const server = await startServer({ port: 0, dataDir: dir, log: () => {} });
  try {
    const api = apiClient(server);
    const task = { name: 'nowhere', source: fx.srcUrl, target: fx.targetUrl('shop'), distributed: true };
    const r = await api.call('POST', '/api/tasks', task);
    assert.equal(r.status, 400, r.text);
    assert.equal(r.body.error.field, 'distributed');
    assert.match(r.body.error.cause, /no control database/);
    assert.match(r.body.error.fix, /--control/);
    assert.equal((await api.call('GET', '/api/health')).body.distributed, false);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the console wizard’s “Copy on workers” option makes a distributed task that the workers copy', async () => {
  assert.ok(served, 'the server of the first test runs');
  const s = served!;
  await fx.newTarget('shop_ui');
  const workers: Worker[] = await Promise.all([fx.startWorker(), fx.startWorker()]);
  const browser = await openBrowser();
  try {
    const page = browser.page;
    page.setDefaultTimeout(30_000);
    await page.goto(s.consoleUrl('#/new'));
    const conn = async (side: string, port: number, db: string, user: string, pw: string) => {
      await page.fill(`#${side}-host`, '127.0.0.1');
      await page.fill(`#${side}-port`, String(port));
      await page.fill(`#${side}-database`, db);
      await page.fill(`#${side}-user`, user);
      await page.fill(`#${side}-password`, pw);
    };
    await conn('source', fx.src.port, 'shop', fx.srcRole, SRC_PW);
    await page.click('button:has-text("Next: Target")');
    await conn('target', fx.tgt.port, 'shop_ui', fx.tgtRole, TGT_PW);
    await page.click('button:has-text("Next: Objects")');
    await page.click('button:has-text("Next: Options")');
    await page.fill('#task-name', 'from-wizard');
    await page.check('#task-no-owner');
    await page.check('#task-no-acl');
    await page.check('#task-distributed');
    await page.click('button:has-text("Next: Precheck and start")');
    await page.locator('table.precheck tbody tr').first().waitFor();
    for (const box of await page.locator('table.precheck input[type=checkbox]').all()) await box.check();
    await page.click('button:has-text("Start migration")');
    await page.waitForURL(/#\/tasks\//);
  } finally {
    await browser.close();
  }
  const { api } = s;
  assert.equal((await api.call('GET', '/api/tasks/from-wizard')).body.config.distributed, true);
  const done = await waitForTask(api, 'from-wizard', (t) => ['done', 'failed', 'mismatch'].includes(t.status));
  assert.equal(done.status, 'done', JSON.stringify(done.error));
  await fx.assertSameRows('shop_ui');
  const all = await followEvents(s, 'from-wizard', { until: (e) => e.event === 'task-end' });
  // the units were copied by the workers (the server copies none of a distributed task's)
  const seen = all.events.filter((e) => e.event === 'workers').at(-1)?.data.workers as { unitsDone: number }[];
  const units = all.events.filter((e) => e.event === 'unit-done').length;
  assert.ok(units > 0 && seen?.length <= 2, JSON.stringify(seen));
  assert.equal(
    seen.reduce((a, w) => a + w.unitsDone, 0),
    units,
    JSON.stringify(seen),
  );
  await Promise.all(workers.map(fx.stopWorker));
});

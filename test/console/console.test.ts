// The web console in Chromium against a real `pgferry serve` and PostgreSQL 15 (a source and a target
// database) with least-privilege accounts: the wizard filled by keyboard alone (connectivity tested
// with a good and a wrong password, objects picked with a row filter, a column subset and a schema
// mapping, precheck with a warning acknowledged, start), the task followed to done, its per-table
// progress and report read, the target compared with the source; then every control's accessible
// name, no sideways scrolling at 400 px, and screenshots at 1280×800 and 400×800.
// While the task runs (throttled, one job), the page shows its progress moving without a reload; it
// is paused from the task page (the target's row count stops growing, read with SQL), resumed, and
// ends done with verification OK, the report rendered and finish's clean-up SQL shown. Screenshots
// of the task page at 1280×800 go to test-output/console ($PGFERRY_CONSOLE_SHOTS), and to
// $PGFERRY_README_SHOT when set (scripts/screenshot.mjs makes the README's picture that way).
// The console is opened once with /?token=… (the token then leaves the address bar); a tab without it
// gets the token form, refuses a wrong token and opens with the right one.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Page, Request } from 'playwright-core';
import { type Cluster, startCluster } from '../../src/dev/embedded/cluster.js';
import { passwordHba, sourceAccount, targetAccount } from '../embed/accounts.js';
import { withClient } from '../helpers/compare.js';
import { horizontalOverflow, countControls, unnamedControls } from './a11y.js';
import { type Browser, DESCRIBE_FOCUS, openBrowser, pressButton, tabTo, typeInto } from './browser.js';
import { type Served, startServe } from './serve.js';

const SRC_PW = 'Src-console-pw-5813';
const TGT_PW = 'Tgt-console-pw-7349';
const WRONG_PW = 'Wrong-console-pw-0001';
const PASSWORDS = [SRC_PW, TGT_PW, WRONG_PW];
const ROLES = ['console_src', 'console_tgt'];

const SOURCE_SQL = `
CREATE SCHEMA app;
CREATE TABLE app.customers (id int PRIMARY KEY, name text NOT NULL);
-- no key: precheck warns (tables.no-key), and the wizard asks to acknowledge it
CREATE TABLE app.orders (id bigserial, customer_id int NOT NULL REFERENCES app.customers,
  total numeric(12,2) NOT NULL, note text);
CREATE TABLE app.audit (id int PRIMARY KEY, what text);
CREATE TABLE public.settings (k text PRIMARY KEY, v text);
INSERT INTO app.customers SELECT g, 'customer ' || g FROM generate_series(1, 200) g;
INSERT INTO app.orders (customer_id, total, note)
  SELECT 1 + g % 200, (g % 500) * 1.25, 'note ' || g FROM generate_series(1, 6000) g;
INSERT INTO app.audit SELECT g, 'x' FROM generate_series(1, 10) g;
INSERT INTO public.settings VALUES ('mode', 'live');
-- four tables over the small-table batch size (256 kB): each is a unit of its own, committed apart
CREATE SCHEMA bulk;
CREATE TABLE bulk.t1 (id int PRIMARY KEY, pad text NOT NULL);
CREATE TABLE bulk.t2 (LIKE bulk.t1 INCLUDING ALL);
CREATE TABLE bulk.t3 (LIKE bulk.t1 INCLUDING ALL);
CREATE TABLE bulk.t4 (LIKE bulk.t1 INCLUDING ALL);
INSERT INTO bulk.t1 SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 2500) g;
INSERT INTO bulk.t2 SELECT * FROM bulk.t1;
INSERT INTO bulk.t3 SELECT * FROM bulk.t1;
INSERT INTO bulk.t4 SELECT * FROM bulk.t1;
-- row estimates, as a database in use has them: the page shows "n of m rows" and an ETA
ANALYZE;
`;
/** The row filter typed into the wizard for app.orders, and the same rows read on the source. */
const ORDERS_FILTER = 'total >= 300';
const BULK = ['t1', 't2', 't3', 't4'];
/** Rows on the target so far (committed), over every table the task copies. */
const TARGET_ROWS = `SELECT ((SELECT count(*) FROM shop_app.customers) + (SELECT count(*) FROM shop_app.orders)
  ${BULK.map((t) => `+ (SELECT count(*) FROM bulk.${t})`).join(' ')})::int AS n`;

// one PostgreSQL 15 server holds the source database and the target database (accounts apart)
let pg: Cluster;
let serve: Served;
let browser: Browser;
let page: Page;
const tmp = mkdtempSync(join(tmpdir(), 'pgferry-console-'));
// screenshots go to $PGFERRY_CONSOLE_SHOTS when set, else to test-output/console (kept, not committed)
const shots = process.env.PGFERRY_CONSOLE_SHOTS ?? join('test-output', 'console');
const seenText: string[] = [];
let taskId = '';
/** Every API request the page made. */
const apiUrls: string[] = [];
const run = promisify(execFile);

before(async () => {
  const t0 = Date.now();
  // the server, the browser and the console build start while the database is being filled
  const database = (async () => {
    pg = await startCluster({ version: 15, name: 'pgferry-console', hba: passwordHba(ROLES) });
    await withClient(pg.url(), (c) => c.query('CREATE DATABASE shop'));
    await withClient(pg.url('shop'), (c) => c.query(SOURCE_SQL));
    await sourceAccount(pg, 'shop', 'console_src', SRC_PW, ['app', 'public', 'bulk']);
    await targetAccount(pg, 'shop_copy', 'console_tgt', TGT_PW);
  })();
  const build = run(process.execPath, ['scripts/build-console.mjs']);
  mkdirSync(shots, { recursive: true });
  // each is kept as soon as it is up, so after() closes it even when another one failed
  const up = [startServe(join(tmp, 'data')).then((x) => (serve = x)), openBrowser().then((x) => (browser = x))];
  for (const r of await Promise.allSettled([...up, database, build])) if (r.status === 'rejected') throw r.reason;
  page = browser.page;
  page.on('request', (r) => {
    if (r.url().includes('/api/')) apiUrls.push(r.url());
  });
  await page.addInitScript(DESCRIBE_FOCUS);
  page.setDefaultTimeout(20_000);
  console.log(`console test set-up: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
});

after(async () => {
  await browser?.close();
  await serve?.stop();
  await pg?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/** The page's visible text, kept to check later that no password ever showed. */
async function remember(): Promise<void> {
  seenText.push(await page.evaluate(() => document.body.textContent ?? ''));
}

async function connectionForm(side: 'source' | 'target', c: Cluster, db: string, user: string, pw: string) {
  await typeInto(page, `#${side}-host`, c.host);
  await typeInto(page, `#${side}-port`, String(c.port));
  await typeInto(page, `#${side}-database`, db);
  await typeInto(page, `#${side}-user`, user);
  await typeInto(page, `#${side}-password`, pw);
}

async function testConnectivity(side: 'source' | 'target'): Promise<string> {
  await pressButton(page, `fieldset.conn button:has-text("Test connectivity")`);
  const result = page.locator(`.test-${side} .note`);
  await result.waitFor();
  await remember();
  return ((await result.textContent()) ?? '').trim();
}

/** Rows of a query as JSON text, for comparing source and target. */
async function rows(url: string, sql: string): Promise<string> {
  return withClient(url, async (c) => JSON.stringify((await c.query(sql)).rows));
}

/** A screenshot of what the window shows at 1280×800. */
async function shot(name: string): Promise<void> {
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: join(shots, `${name}.png`) });
}

/** The rows the task page's summary says are copied ("1,234 of 13,320 rows, …" or "1,234 rows, …"). */
async function rowsOnPage(): Promise<number> {
  const m = /([\d,]+)(?: of [\d,]+)? rows,/.exec((await page.textContent('p.summary')) ?? '');
  return m ? Number(m[1].replace(/,/g, '')) : -1;
}

/** The target's row count once it holds still over `gapMs` (a unit under way may commit first). */
async function steadyTargetRows(gapMs: number): Promise<{ n: number; reads: number[] }> {
  const count = () => withClient(pg.url('shop_copy'), async (c) => (await c.query(TARGET_ROWS)).rows[0].n as number);
  const reads = [await count()];
  for (let i = 0; i < 6; i++) {
    await new Promise((r) => setTimeout(r, gapMs));
    reads.push(await count());
    if (reads.at(-1) === reads.at(-2)) return { n: reads.at(-1)!, reads };
  }
  throw new Error(`the target's row count kept growing while paused: ${reads.join(', ')}`);
}

/** Every control named, no sideways scrolling at 400 px; screenshots at both sizes. */
async function checkLayout(name: string): Promise<void> {
  for (const [w, h] of [
    [1280, 800],
    [400, 800],
  ]) {
    await page.setViewportSize({ width: w, height: h });
    await page.screenshot({ path: join(shots, `${name}-${w}x${h}.png`), fullPage: true });
    const o = await horizontalOverflow(page);
    assert.ok(o.scrollWidth <= o.width && o.over.length === 0, `${name} at ${w} px overflows: ${JSON.stringify(o)}`);
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  assert.ok((await countControls(page)) > 0);
  assert.deepEqual(await unnamedControls(page), [], `${name}: controls without an accessible name`);
}

test('the wizard, by keyboard alone, runs a least-privilege migration to done: target equal to source', async () => {
  const t0 = Date.now();
  const laps: string[] = [];
  const lap = (what: string) => laps.push(`${what} ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  // opened as pgferry serve prints it: the token in the URL once, gone from the address bar after
  await page.goto(`${serve.url}/?token=${serve.token}#/new`);
  await page.locator('#source-host').waitFor();
  assert.equal(page.url(), `${serve.url}/#/new`, 'the token is removed from the address bar');

  // source: the right password → version and latency
  const srcPassed = await tabTo(page, '#source-host');
  assert.ok(srcPassed.length <= 4, `the first field comes after the skip link and the navigation: ${srcPassed}`);
  await connectionForm('source', pg, 'shop', 'console_src', SRC_PW);
  const okText = await testConnectivity('source');
  assert.match(okText, /Connected: PostgreSQL 15\.\d+/);
  assert.match(okText, /latency [\d.]+ ms/);
  await pressButton(page, 'button:has-text("Next: Target")');
  // the focus moves in an effect after the render: waited for, not sampled once (the machine is loaded)
  await page
    .waitForFunction(() => document.activeElement?.id === 'step-h', undefined, { timeout: 5000 })
    .catch(() => {});
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'step-h', 'focus moves to the step heading');

  // target: a wrong password → cause and fix; then the right one
  await connectionForm('target', pg, 'shop_copy', 'console_tgt', WRONG_PW);
  const bad = await testConnectivity('target');
  assert.match(bad, /Cause:.*password/is, bad);
  assert.match(bad, /Fix:\s*\S+/, bad);
  await typeInto(page, '#target-password', TGT_PW);
  assert.match(await testConnectivity('target'), /Connected: PostgreSQL 15\./);
  await pressButton(page, 'button:has-text("Next: Objects")');
  lap('connections');

  // objects: search finds orders by name; customers picked from the expanded schema
  await page.locator('#object-search').waitFor();
  await typeInto(page, '#object-search', 'ord');
  await tabTo(page, '#av--app--orders');
  await page.keyboard.press('Space');
  await typeInto(page, '#object-search', '');
  await pressButton(page, 'button[aria-label="Show tables of schema app"]');
  await tabTo(page, '#av--app--customers');
  await page.keyboard.press('Space');
  await tabTo(page, '#av--bulk');
  await page.keyboard.press('Space');
  await pressButton(page, 'button:has-text("Add to selection")');
  await pressButton(page, 'button[aria-label="Options of app.orders"]');
  await typeInto(page, '[id$="-where"]', ORDERS_FILTER);
  await tabTo(page, '[id$="--col--note"]');
  await page.keyboard.press('Space');
  await typeInto(page, '[id="map--app"]', 'shop_app');
  await remember();
  await checkLayout('wizard-objects');
  lap('objects');
  await pressButton(page, 'button:has-text("Next: Options")');

  // options: objects owned by the target account, grants left behind (a least-privilege target)
  await tabTo(page, '#task-no-owner');
  await page.keyboard.press('Space');
  await tabTo(page, '#task-no-acl');
  await page.keyboard.press('Space');
  // one job, throttled: the copy lasts long enough to watch, pause and resume (13,320 rows at
  // 500 rows/s; the pause must come before the last unit starts)
  await typeInto(page, '#task-jobs', '1');
  await typeInto(page, '#task-max-rows', '500');
  taskId = await page.inputValue('#task-name');
  assert.equal(taskId, 'shop-to-shop_copy');
  await pressButton(page, 'button:has-text("Next: Precheck and start")');

  // precheck: every item with its result; warnings acknowledged; start
  const items = page.locator('table.precheck tbody tr');
  await items.first().waitFor({ timeout: 30_000 });
  assert.ok((await items.count()) >= 5, 'the precheck lists its items');
  assert.equal(
    await page.locator('table.precheck .badge-fail').count(),
    0,
    (await page.textContent('table.precheck')) ?? '',
  );
  const warned = page.locator('table.precheck tr.result-warning', { hasText: 'tables.no-key' });
  assert.match(
    (await warned.textContent()) ?? '',
    /app\.orders.*primary key/s,
    'the warning names the table and the fix',
  );
  const startButton = page.locator('button:has-text("Start migration")');
  assert.ok(await startButton.isDisabled(), 'start waits for the warnings to be acknowledged');
  for (const box of await page.locator('table.precheck input[type=checkbox]').all()) {
    const id = await box.getAttribute('id');
    await tabTo(page, `[id="${id}"]`);
    await page.keyboard.press('Space');
  }
  await remember();
  await checkLayout('wizard-precheck');
  lap('precheck');
  assert.ok(await startButton.isEnabled());
  await pressButton(page, 'button:has-text("Start migration")');
  await page.waitForURL(/#\/tasks\//);

  // live: the rows copied move on the page between two reads, with no reload (the marker stays)
  await page.locator('.section-head .badge-running').waitFor({ timeout: 30_000 });
  await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
  assert.equal((await page.textContent('.limit-rows')) ?? '', '500 rows/s');
  await page.waitForFunction(() =>
    /[1-9][\d,]*(?: of [\d,]+)? rows,/.test(document.querySelector('p.summary')?.textContent ?? ''),
  );
  const first = await rowsOnPage();
  await page.waitForFunction(
    (n) => {
      const m = /([\d,]+)(?: of [\d,]+)? rows,/.exec(document.querySelector('p.summary')?.textContent ?? '');
      return m !== null && Number(m[1].replace(/,/g, '')) > n;
    },
    first,
    { timeout: 30_000 },
  );
  const second = await rowsOnPage();
  assert.ok(second > first && first > 0, `progress on the page: ${first} then ${second}`);
  await shot('task-running');
  if (process.env.PGFERRY_README_SHOT) {
    // the README's picture: the running task, without a focus ring
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.screenshot({ path: process.env.PGFERRY_README_SHOT });
  }
  lap('progress seen');

  // pause from the task page: the page says paused, and the target's row count stops growing
  await pressButton(page, '.actions button:has-text("Pause")');
  await page.locator('.section-head .badge-paused').waitFor({ timeout: 30_000 });
  const held = await steadyTargetRows(2_500);
  const total = await withClient(pg.url('shop'), async (c) => {
    const r =
      await c.query(`SELECT ((SELECT count(*) FROM app.customers) + (SELECT count(*) FROM app.orders WHERE ${ORDERS_FILTER})
      ${BULK.map((t) => `+ (SELECT count(*) FROM bulk.${t})`).join(' ')})::int AS n`);
    return r.rows[0].n as number;
  });
  assert.ok(held.n < total, `paused with ${held.n} of ${total} rows on the target (reads ${held.reads.join(', ')})`);
  assert.equal((await page.textContent('.section-head .badge')) ?? '', 'paused');
  // no rows/s figure or ETA left from before the pause
  const summary = (await page.textContent('.summary')) ?? '';
  assert.match(summary, /paused, no rate/, summary);
  assert.doesNotMatch(summary, /rows\/s|ETA/, summary);
  assert.ok((await page.locator('.actions button:has-text("Resume")').count()) === 1, 'resume is offered');
  await shot('task-paused');
  lap(`paused (target rows ${held.reads.join(' → ')} of ${total})`);

  // resume, and lift the limit from the controls: the copy goes on to the end
  await pressButton(page, '.actions button:has-text("Resume")');
  await page.locator('.section-head .badge-running').waitFor({ timeout: 30_000 });
  await typeInto(page, '#limit-rows', '20k');
  await pressButton(page, 'button:has-text("Apply limits")');
  await page.locator('.limit-rows', { hasText: '20,000 rows/s' }).waitFor();
  lap('resumed');

  // the task page follows the run to done
  await page.locator('.section-head .badge-done').waitFor({ timeout: 60_000 });
  await page.locator('.markdown').waitFor();
  await page.locator('.verify-summary').waitFor();
  await remember();
  lap('done');
  assert.equal(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument), true);
  // verification OK on the page: every copied table counted equal
  assert.match((await page.textContent('.verify-summary')) ?? '', /Verification OK\s*all 6 tables equal/);
  assert.equal(await page.locator('section[aria-labelledby="verify-h"] td .badge-pass').count(), 6);
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot('task-done');
  const status = (await page.textContent('.section-head .badge')) ?? '';
  assert.equal(status, 'done', (await page.textContent('main')) ?? '');

  // per-table progress: every row of the source (after the filter) is counted done
  const [customers, orders] = await withClient(pg.url('shop'), async (c) => {
    const r = await c.query(`SELECT (SELECT count(*) FROM app.customers)::int AS a,
      (SELECT count(*) FROM app.orders WHERE ${ORDERS_FILTER})::int AS b`);
    return [r.rows[0].a as number, r.rows[0].b as number];
  });
  const rowsDone = async (table: string) =>
    Number(
      (await page.locator(`table.tables tr:has(th:has-text("${table}")) .rows-done`).textContent())!.replace(/,/g, ''),
    );
  assert.equal(await rowsDone('customers'), customers);
  assert.equal(await rowsDone('orders'), orders);
  assert.ok(orders > 0 && orders < 6000, 'the filter keeps some orders and leaves others');

  // the throughput chart: a line of the rows/s the progress events carried
  assert.ok((await page.locator('.chart polyline').getAttribute('points'))?.includes(','), 'the chart has a line');
  assert.match((await page.textContent('.chart figcaption')) ?? '', /Rows\/s now [\d,]+, peak [\d,]+/);

  // the report, rendered
  const report = (await page.textContent('.markdown')) ?? '';
  assert.match(report, /customers/);
  assert.match(report, /orders/);

  // the target holds the selected rows, columns and schema, nothing else
  const tgt = pg.url('shop_copy');
  assert.equal(
    await rows(tgt, 'SELECT id, name FROM shop_app.customers ORDER BY id'),
    await rows(pg.url('shop'), 'SELECT id, name FROM app.customers ORDER BY id'),
  );
  assert.equal(
    await rows(tgt, 'SELECT id, customer_id, total FROM shop_app.orders ORDER BY id'),
    await rows(pg.url('shop'), `SELECT id, customer_id, total FROM app.orders WHERE ${ORDERS_FILTER} ORDER BY id`),
  );
  for (const t of BULK) {
    const sql = `SELECT * FROM bulk.${t} ORDER BY id`;
    assert.equal(await rows(tgt, sql), await rows(pg.url('shop'), sql), `bulk.${t}`);
  }
  const leftOut = await rows(
    tgt,
    `SELECT table_schema, table_name, column_name FROM information_schema.columns
     WHERE table_schema NOT IN ('pg_catalog', 'information_schema', 'pgferry')
       AND (table_name IN ('audit', 'settings') OR column_name = 'note')`,
  );
  assert.equal(leftOut, '[]', 'tables and columns not selected stay behind');

  for (const text of seenText) for (const pw of PASSWORDS) assert.ok(!text.includes(pw), 'a password was shown');
  const html = await page.content();
  for (const pw of PASSWORDS) assert.ok(!html.includes(pw), 'the task page holds a password');
  lap('checked');
  console.log(`console flow: ${laps.join(', ')}`);
});

test('every control named, no sideways scrolling at 400 px, finish shows the clean-up SQL', async () => {
  assert.ok(taskId, 'the wizard test created a task');
  await page.goto(serve.consoleUrl(`#/tasks/${encodeURIComponent(taskId)}`));
  await page.locator('.section-head .badge-done').waitFor();
  await page.locator('.markdown').waitFor();
  await checkLayout('task');
  await page.goto(serve.consoleUrl('#/'));
  await page.locator('table.tasks tbody tr').first().waitFor();
  assert.match((await page.textContent('table.tasks')) ?? '', new RegExp(`${taskId}\\s*done`));
  await checkLayout('tasks');
  await page.goto(serve.consoleUrl('#/new'));
  await page.locator('#source-host').waitFor();
  await checkLayout('wizard-source');

  // finish, from the task page by keyboard: the account clean-up SQL shown for copying
  await page.goto(serve.consoleUrl(`#/tasks/${encodeURIComponent(taskId)}`));
  await page.locator('.section-head .badge-done').waitFor();
  await pressButton(page, 'button:has-text("Finish task")');
  const sql = await page.locator('#cleanup-sql').inputValue();
  assert.match(sql, /DROP ROLE "?console_tgt"?;[\s\S]*DROP ROLE "?console_src"?;/, sql);
  assert.ok(await page.locator('button:has-text("Copy SQL")').isVisible());
  const finished = await page.content();
  for (const pw of PASSWORDS) assert.ok(!finished.includes(pw) && !sql.includes(pw), 'finish shows a password');
  // the landmarks a screen reader jumps between
  for (const sel of ['header', 'main', 'nav[aria-label="Main"]', '[aria-live="polite"]', '[aria-live="assertive"]']) {
    assert.equal(await page.locator(sel).count(), 1, sel);
  }
  // every input's label is tied to it
  const unlabelled = await page.evaluate(
    () =>
      [...document.querySelectorAll('input, select, textarea')].filter((e) => !(e as HTMLInputElement).labels?.length)
        .length,
  );
  assert.equal(unlabelled, 0);
  // the token was never sent in a URL: not by the event stream, not by any API call
  assert.ok(!apiUrls.some((u) => u.includes(serve.token)), apiUrls.join('\n'));
  assert.ok(
    apiUrls.some((u) => u.includes('/events')),
    'the task page followed the event stream',
  );
});

test('the task page event stream, read with fetch, reconnects after a server restart with Last-Event-ID', async () => {
  assert.ok(taskId, 'the wizard test created a task');
  const streams: { lastEventId?: string; auth: boolean; url: string }[] = [];
  const onRequest = (r: Request) => {
    if (!r.url().includes('/events')) return;
    const h = r.headers();
    streams.push({ lastEventId: h['last-event-id'], auth: h.authorization === `Bearer ${serve.token}`, url: r.url() });
  };
  // from the task list, so the task page mounts (and opens its stream) while requests are recorded
  await page.goto(`${serve.url}/#/`);
  await page.locator('table.tasks tbody tr').first().waitFor();
  page.on('request', onRequest);
  try {
    await page.goto(`${serve.url}/#/tasks/${encodeURIComponent(taskId)}`);
    await page.locator('.markdown').waitFor();
    // a verification row comes from the stream's replayed verify-result events: the stream delivered
    await page.locator('tbody tr .badge-pass', { hasText: 'equal' }).first().waitFor();
    assert.equal(streams.length, 1);
    assert.equal(streams[0].lastEventId, undefined, 'the first request replays from the start');
    // the same server again on the same port, same data dir and token: the page reconnects by itself
    const { port, token } = serve;
    await serve.stop();
    serve = await startServe(join(tmp, 'data'), 120_000, { port, token });
    for (let i = 0; i < 150 && streams.length < 2; i++) await new Promise((r) => setTimeout(r, 200));
    const again = streams.at(-1)!;
    assert.ok(streams.length >= 2, 'the stream was opened again');
    assert.ok(Number(again.lastEventId) > 0, `Last-Event-ID sent: ${JSON.stringify(streams)}`);
    assert.ok(
      streams.every((s) => s.auth && !s.url.includes(token)),
      'the token in the header, never in the URL',
    );
    assert.equal(await page.locator('#token-input').count(), 0, 'still signed in');
  } finally {
    page.off('request', onRequest);
  }
});

test('a tab without the token shows the token form: a wrong token is refused, the right one opens the console', async () => {
  // a new tab has its own sessionStorage: no token
  const tab = await browser.context.newPage();
  try {
    await tab.addInitScript(DESCRIBE_FOCUS);
    tab.setDefaultTimeout(20_000);
    await tab.goto(`${serve.url}/#/`);
    await tab.locator('#token-input').waitFor();
    assert.match((await tab.textContent('main')) ?? '', /Enter the API token[\s\S]*no API token/);
    assert.equal(await tab.locator('table.tasks').count(), 0, 'no task list without the token');
    assert.deepEqual(await unnamedControls(tab), []);
    assert.equal(await tab.evaluate(() => (document.activeElement as HTMLElement | null)?.id), 'token-h');
    await typeInto(tab, '#token-input', 'not-the-token-0000000000');
    await pressButton(tab, 'button:has-text("Open the console")');
    await tab.locator('.note-error', { hasText: 'refused' }).waitFor();
    await tab.screenshot({ path: join(shots, 'token-1280x800.png'), fullPage: true });
    await typeInto(tab, '#token-input', serve.token);
    await pressButton(tab, 'button:has-text("Open the console")');
    await tab.locator('table.tasks tbody tr').first().waitFor();
    assert.match((await tab.textContent('table.tasks')) ?? '', new RegExp(taskId || 'shop'));
    assert.ok(!(await tab.content()).includes(serve.token), 'the token is not in the page');
  } finally {
    await tab.close();
  }
});

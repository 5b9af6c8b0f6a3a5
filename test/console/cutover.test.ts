// The console's Cutover section in Chromium against a real `pgferry serve` and PostgreSQL 15: an
// incremental task started through the API streams, the "Cut over" button (pressed by keyboard) shows
// the steps and the write downtime, the target equals the source, and the undo button lets the source
// tables accept writes again.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { Cluster } from '../../src/dev/embedded/cluster.js';
import { tableHashes, withClient } from '../helpers/compare.js';
import { logicalCluster } from '../cdc/helpers.js';
import { type Browser, DESCRIBE_FOCUS, openBrowser, pressButton } from './browser.js';
import { type Served, startServe } from './serve.js';

let pg: Cluster;
let serve: Served;
let browser: Browser;
const tmp = mkdtempSync(join(tmpdir(), 'pgferry-console-cutover-'));

before(async () => {
  const database = (async () => {
    pg = await logicalCluster();
    await withClient(pg.url(), async (c) => {
      await c.query('CREATE ROLE cut_src LOGIN REPLICATION; CREATE ROLE cut_tgt LOGIN; CREATE ROLE cut_app LOGIN');
      await c.query('CREATE DATABASE shop OWNER cut_src');
      await c.query('CREATE DATABASE shop_copy OWNER cut_tgt');
    });
    await withClient(pg.url('shop', 'cut_src'), (c) =>
      c.query(`CREATE TABLE item (id serial PRIMARY KEY, label text);
        INSERT INTO item (label) SELECT 'i' || g FROM generate_series(1, 300) g;
        CREATE TABLE note (id int PRIMARY KEY, body text);
        GRANT SELECT, INSERT, UPDATE, DELETE ON item, note TO cut_app; GRANT USAGE ON SEQUENCE item_id_seq TO cut_app;`),
    );
  })();
  const build = promisify(execFile)(process.execPath, ['scripts/build-console.mjs']);
  const up = [startServe(join(tmp, 'data')).then((x) => (serve = x)), openBrowser().then((x) => (browser = x))];
  for (const r of await Promise.allSettled([...up, database, build])) if (r.status === 'rejected') throw r.reason;
  await browser.page.addInitScript(DESCRIBE_FOCUS);
  browser.page.setDefaultTimeout(60_000);
});

after(async () => {
  await browser?.close();
  await serve?.stop();
  await pg?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

async function post(path: string, body?: unknown): Promise<Response> {
  return serve.fetch(`/api${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  });
}

test('console: "Cut over" on an incremental task shows the steps and the write downtime; the undo lets writes back', async () => {
  const source = pg.url('shop', 'cut_src');
  const target = pg.url('shop_copy', 'cut_tgt');
  const app = pg.url('shop', 'cut_app');
  const task = { name: 'console-cut', source, target, incremental: true, noOwner: true, noAcl: true, verify: 'none' };
  assert.equal((await post('/tasks', task)).status, 201);
  assert.equal((await post('/tasks/console-cut/start')).status, 202);
  for (let i = 0; i < 600; i++) {
    const state = await withClient(target, (c) =>
      c
        .query(`SELECT state FROM pgferry.cdc WHERE task_id = 'console-cut'`)
        .then((r) => r.rows[0]?.state as string | undefined)
        .catch(() => undefined),
    );
    if (state === 'stream') break;
    await sleep(200);
  }
  await withClient(app, (c) => c.query(`INSERT INTO note VALUES (1, 'while streaming'); UPDATE item SET label = 'x'`));

  const page = browser.page;
  await page.goto(serve.consoleUrl('#/tasks/console-cut'));
  await page.getByRole('heading', { name: 'Cutover' }).waitFor();
  assert.equal(await page.getByRole('checkbox', { name: /read-only for the cutover/ }).isChecked(), true);
  await pressButton(page, 'button:has-text("Cut over")');
  const section = page.locator('section[aria-labelledby="cutover-h"]');
  const done = section.getByText(/writes were stopped for \d+\.\d+ s/);
  await done.waitFor({ timeout: 120_000 });
  const steps = await page
    .getByRole('table', { name: 'Cutover steps' })
    .locator('tbody tr td:first-child')
    .allTextContents();
  assert.deepEqual(steps, [
    'stop writes',
    'catch up',
    'sync sequences',
    'verify (hash)',
    'check no write arrived',
    'drop slot and publication',
  ]);
  assert.deepEqual(await tableHashes(target), await tableHashes(source));
  const refused = await withClient(app, (c) => c.query(`INSERT INTO note VALUES (2, 'after')`)).then(
    () => 'accepted',
    (e: { code?: string }) => e.code,
  );
  assert.equal(refused, '25006');
  await pressButton(page, 'button:has-text("Let the source accept writes again")');
  await section.getByText('The source accepts writes to 2 table(s) again.').waitFor();
  await withClient(app, (c) => c.query(`INSERT INTO note VALUES (3, 'after the undo')`));
});

// `pgferry demo --console` as the installed command runs it (bin/pgferry.js, which runs the bundled
// dist/pgferry.mjs that `npm install` builds): it starts the embedded servers, loads the sample
// database, serves the console with the task "demo" created and prechecked, and prints the URL;
// the API answers for that task, which starts and runs to done and verified; Ctrl-C (SIGINT) stops the process, both PostgreSQL servers (their
// ports refuse connections, their directories are gone) and removes the console's data dir.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { apiClient, waitForTask } from '../server/helpers.js';
import { cli } from './run.js';

const BIN = new URL('../../bin/pgferry.js', import.meta.url).pathname;
const BUNDLE = new URL('../../dist/pgferry.mjs', import.meta.url).pathname;
const PACKAGE = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** Whether something accepts TCP connections on the port. */
const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

test('demo --console: the console with a prechecked task, stopped cleanly by Ctrl-C', async () => {
  assert.ok(existsSync(BUNDLE), 'dist/pgferry.mjs is built (npm run build)');
  const child = spawn(process.execPath, [BIN, 'demo', '--console', '--listen', '127.0.0.1:0', '--scale', '0.02'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const deadline = Date.now() + 150_000;
    let url: string | undefined;
    let token: string | undefined;
    while (!url && Date.now() < deadline && child.exitCode === null) {
      const m = /console at (http:\/\/\S+?)\/\?token=([0-9A-Za-z_%-]+)#\/tasks\/demo/.exec(out);
      [url, token] = [m?.[1], m?.[2] && decodeURIComponent(m[2])];
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(url, `no console URL printed:\n${out}`);
    const servers = [...out.matchAll(/(source|target): PostgreSQL (\d+) at 127\.0\.0\.1:(\d+) \(data in (\S+)\)/g)];
    assert.equal(servers.length, 2, out);
    assert.match(out, /task "demo" created and prechecked: \d+ checks passed, \d+ warnings?, 0 failures; not started/);

    const api = apiClient({ url, token });
    const task = await api.call('GET', '/api/tasks/demo');
    assert.equal(task.status, 200, task.text);
    assert.equal(task.body.status, 'created');
    const pre = await api.call('GET', '/api/tasks/demo/precheck');
    assert.equal(pre.status, 200, pre.text);
    assert.equal(pre.body.ok, true);
    // ready: started as the task page's Start does, it runs to done and verified
    const warned = pre.body.items.filter((i: { result: string }) => i.result === 'warning');
    assert.equal((await api.call('POST', '/api/tasks/demo/start')).status, 202);
    const done = await waitForTask(api, 'demo', (t) => ['done', 'failed', 'mismatch'].includes(t.status), 120_000);
    assert.equal(done.status, 'done', `${JSON.stringify(done.error)}; precheck warnings: ${JSON.stringify(warned)}`);
    const report = await api.call('GET', '/api/tasks/demo/report');
    assert.equal(report.body.verification.ok, true);
    const page = await api.call('GET', '/');
    assert.match(page.text, /<html/i, 'the console is served');
    // the built console (dist/console) beside the bundle, not the sources, and the package's version
    const app = await api.call('GET', '/app.js');
    assert.equal(app.status, 200, 'the built console script is served');
    const health = await api.call('GET', '/api/health');
    assert.equal(health.body.version, PACKAGE.version);
    for (const [, , , port] of servers) assert.ok(await listening(Number(port)), `PostgreSQL on ${port}`);

    // a second demo on the same address: the cause and the fix, and its servers stopped
    const port = new URL(url).port;
    const second = await cli(['demo', '--console', '--listen', `127.0.0.1:${port}`, '--scale', '0.01']);
    assert.notEqual(second.code, 0);
    assert.match(second.stderr, new RegExp(`127\\.0\\.0\\.1:${port} is already in use`), second.stderr);
    assert.match(second.stderr, /--listen 127\.0\.0\.1:<another port>/);
    const left = [
      ...second.stdout.matchAll(/(source|target): PostgreSQL \d+ at 127\.0\.0\.1:(\d+) \(data in (\S+)\)/g),
    ];
    assert.equal(left.length, 2, second.stdout);
    for (const [, side, p, dir] of left) {
      assert.equal(await listening(Number(p)), false, `the failed demo left its ${side} server on ${p}`);
      assert.equal(existsSync(dir), false, `the failed demo left ${dir}`);
    }

    child.kill('SIGINT');
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 30_000))]);
    assert.notEqual(code, 'timeout', `demo --console did not stop on SIGINT:\n${out}`);
    assert.match(out, /stopping the console and both servers/);
    for (const [, side, , port, dataDir] of servers) {
      assert.equal(await listening(Number(port)), false, `the ${side} server still listens on ${port}`);
      assert.equal(existsSync(dataDir), false, `the ${side} server's directory ${dataDir} is left`);
    }
    assert.equal(await listening(Number(new URL(url).port)), false, 'the console still listens');
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT'); // its servers stop with it
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    }
  }
});

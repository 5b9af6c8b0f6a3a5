// The console's static route: index.html at /, files of the folder with their types and security
// headers, nothing outside the folder (../, encoded or not), /api left to the API, a clear 503 when
// the console is not built.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveStatic } from '../../src/server/static.js';

const tmp = mkdtempSync(join(tmpdir(), 'pgferry-static-'));
const root = join(tmp, 'console');
let server: Server;
let base = '';
let emptyRoot = false;

before(async () => {
  mkdirSync(root);
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>console</title>');
  writeFileSync(join(root, 'app.js'), 'console.log(1)');
  writeFileSync(join(tmp, 'secret.txt'), 'outside the console folder');
  server = createServer((req, res) => {
    if (serveStatic(req, res, emptyRoot ? join(tmp, 'missing') : root)) return;
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"error":{"cause":"not the console"}}');
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise<void>((ok) => server.close(() => ok()));
  rmSync(tmp, { recursive: true, force: true });
});

test('index.html at /, files with their content types and security headers', async () => {
  const index = await fetch(`${base}/`);
  assert.equal(index.status, 200);
  assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.match(index.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  assert.equal(index.headers.get('x-content-type-options'), 'nosniff');
  assert.match(await index.text(), /<title>console<\/title>/);
  const js = await fetch(`${base}/app.js?v=1`);
  assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.equal(await js.text(), 'console.log(1)');
  const head = await fetch(`${base}/app.js`, { method: 'HEAD' });
  assert.equal(head.headers.get('content-length'), String('console.log(1)'.length));
});

test('nothing outside the folder, no /api path and no other method is served as a file', async () => {
  for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/%00', '/nope.js', '/api/health']) {
    const r = await fetch(`${base}${path}`);
    assert.equal(r.status, 404, path);
    assert.doesNotMatch(await r.text(), /outside the console folder/, path);
  }
  const post = await fetch(`${base}/index.html`, { method: 'POST' });
  assert.equal(post.status, 404);
});

test('a console that is not built answers 503 naming the command that builds it', async () => {
  emptyRoot = true;
  try {
    const r = await fetch(`${base}/`);
    assert.equal(r.status, 503);
    assert.match(await r.text(), /npm run build/);
  } finally {
    emptyRoot = false;
  }
});

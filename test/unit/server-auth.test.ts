// The API token and the Host check (src/server/auth.ts), the log's line formats (logger.ts) and
// the console's Server-Sent Events parser: token file 0600, made once and reused, a given token
// wins; constant-time comparison; Host names of this server accepted, rebound names refused; JSON
// log lines with the token scrubbed; SSE blocks split across reads parsed like EventSource does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { authenticated, hostAllowed, loadToken, sameToken, TOKEN_FILE, unauthorized } from '../../src/server/auth.js';
import { createLogger, formatEntry } from '../../src/server/logger.js';
import { isLoopback } from '../../src/server/transport.js';
import { parseBlocks, type StreamMessage } from '../../console/src/sse-parse.js';

const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

test('the token file: 0600, 256 random bits, made once and reused; a given token wins and is checked', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgferry-token-'));
  try {
    const first = loadToken(dir, undefined, {});
    const p = join(dir, TOKEN_FILE);
    assert.equal(statSync(p).mode & 0o777, 0o600);
    assert.match(first.value, /^[0-9a-f]{64}$/);
    assert.equal(first.from, p);
    assert.equal(first.given, false);
    chmodSync(p, 0o644);
    const again = loadToken(dir, undefined, {});
    assert.equal(again.value, first.value, 'reused');
    assert.equal(statSync(p).mode & 0o777, 0o600, 'made private again');
    assert.equal(readFileSync(p, 'utf8').trim(), first.value);
    const other = loadToken(mkdtempSync(join(tmpdir(), 'pgferry-token-')), undefined, {});
    assert.notEqual(other.value, first.value);
    const fromEnv = loadToken(dir, undefined, { PGFERRY_TOKEN: 'env-token-0123456789' });
    assert.deepEqual(fromEnv, { value: 'env-token-0123456789', from: '$PGFERRY_TOKEN', given: true });
    assert.equal(loadToken(dir, 'option-token-0123456789', { PGFERRY_TOKEN: 'x'.repeat(20) }).from, '--token');
    assert.throws(() => loadToken(dir, 'short', {}), /too short[\s\S]*|at least 16/);
    assert.throws(() => loadToken(dir, 'has a space in the middle', {}), /spaces/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bearer tokens compared whole; 401 texts name the cause and where the token is', () => {
  const t = 'a'.repeat(32);
  assert.equal(sameToken(t, t), true);
  assert.equal(sameToken(t, `${t}a`), false);
  assert.equal(sameToken(t, t.slice(1)), false);
  assert.equal(authenticated(req({ authorization: `Bearer ${t}` }), t), true);
  assert.equal(authenticated(req({ authorization: `bearer ${t}` }), t), true);
  assert.equal(authenticated(req({ authorization: `Bearer ${t}x` }), t), false);
  assert.equal(authenticated(req({ authorization: `Basic ${t}` }), t), false);
  assert.equal(authenticated(req({}), t), false);
  const file = { value: t, from: '/data/.api-token', given: false };
  const none = unauthorized(req({}), file);
  assert.equal(none.status, 401);
  assert.match(none.message, /no API token/);
  assert.match(none.fix, /Authorization: Bearer <token>.*\/data\/\.api-token/);
  assert.match(unauthorized(req({ authorization: 'Bearer nope' }), file).message, /wrong/);
  assert.match(unauthorized(req({ authorization: 'Basic eDp5' }), file).message, /not "Bearer <token>"/);
  const given = unauthorized(req({}), { value: t, from: '$PGFERRY_TOKEN', given: true });
  assert.match(given.fix, /given to pgferry serve by \$PGFERRY_TOKEN/);
  assert.ok(!none.fix.includes(t) && !none.message.includes(t), 'the 401 never shows the token');
});

test('Host: localhost, IP addresses, the listen host and allowed names pass; other names are refused', () => {
  for (const h of ['127.0.0.1:7300', 'localhost:7300', 'LOCALHOST', '[::1]:7300', '10.1.2.3:80', 'app.localhost:1']) {
    assert.equal(hostAllowed(h, '127.0.0.1'), true, h);
  }
  for (const h of [
    undefined,
    '',
    'evil.example:7300',
    'evil.example',
    '127.0.0.1.evil.example:7300',
    'localhost.evil',
  ]) {
    assert.equal(hostAllowed(h, '127.0.0.1'), false, String(h));
  }
  assert.equal(hostAllowed('ferry.internal:7300', '127.0.0.1', ['ferry.internal']), true);
  assert.equal(hostAllowed('box:7300', 'box'), true, 'the name it listens on');
  // the addresses that stay on this machine (no warning when listening there)
  for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) assert.equal(isLoopback(h), true, h);
  for (const h of ['0.0.0.0', '::', '10.0.0.5', 'example.com', '128.0.0.1']) assert.equal(isLoopback(h), false, h);
});

test('log lines: one JSON object (time, level, msg, fields) or text; the token never written', () => {
  const at = new Date('2026-01-02T03:04:05.000Z');
  const line = formatEntry('json', 'info', 'request', { method: 'GET', status: 200, task: undefined }, at);
  assert.deepEqual(JSON.parse(line), {
    time: '2026-01-02T03:04:05.000Z',
    level: 'info',
    msg: 'request',
    method: 'GET',
    status: 200,
  });
  assert.equal(
    formatEntry('text', 'warn', 'task failed', { task: 't1', cause: 'two words' }, at),
    '2026-01-02T03:04:05.000Z WARN  task failed task=t1 cause="two words"',
  );
  const lines: string[] = [];
  const token = 'tok-0123456789abcdef';
  const log = createLogger({ format: 'json', write: (l) => lines.push(l), secrets: [token] });
  log.error('refused', { header: `Bearer ${token}`, url: 'postgresql://u:Secret-pw-1@h/db' });
  assert.equal(lines.length, 1);
  const o = JSON.parse(lines[0]);
  assert.equal(o.level, 'error');
  assert.ok(!lines[0].includes(token) && !lines[0].includes('Secret-pw-1'), lines[0]);
});

test('the console reads Server-Sent Events like EventSource: blocks split across reads, ids kept, comments skipped', () => {
  const got: StreamMessage[] = [];
  const last = { id: '' };
  let rest = parseBlocks(': pgferry event stream\n\nid: 1\nevent: progress\nda', last, (m) => got.push(m));
  assert.equal(got.length, 0);
  rest = parseBlocks(
    `${rest}ta: {"a":1}\n\n: keep-alive\n\nid: 2\r\nevent: task-end\r\ndata: x\r\ndata: y\r\n\r\n`,
    last,
    (m) => got.push(m),
  );
  assert.equal(rest, '');
  assert.deepEqual(got, [
    { id: '1', event: 'progress', data: '{"a":1}' },
    { id: '2', event: 'task-end', data: 'x\ny' },
  ]);
  assert.equal(last.id, '2', 'the id a reconnect sends as Last-Event-ID');
  // a CRLF split between two reads is one line end, not an empty line
  rest = parseBlocks('id: 3\r', last, (m) => got.push(m));
  parseBlocks(`${rest}\ndata: z\r\n\r\n`, last, (m) => got.push(m));
  assert.deepEqual(got.at(-1), { id: '3', event: 'message', data: 'z' });
});

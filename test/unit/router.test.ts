// The API's router over node:http: path parameters, JSON replies and errors, 404/405/400 answers
// with cause and fix, and the fallback for pages outside /api/ (the console's static files).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { json, Router } from '../../src/server/router.js';
import { PgferryError } from '../../src/core/errors.js';
import { apiClient } from '../server/helpers.js';

test('routes, parameters, errors as JSON with cause and fix, and the fallback outside /api/', async () => {
  const router = new Router()
    .add('GET', '/api/things/:id', (c) => json({ id: c.params.id, q: c.query.get('q') }))
    .add('POST', '/api/things', async (c) => json({ got: await c.body() }, 201))
    .add('GET', '/api/fail/:kind', (c) => {
      if (c.params.kind === 'usage')
        throw new PgferryError('usage', 'bad input postgresql://u:pw123456@h/db', { hint: 'fix it' });
      if (c.params.kind === 'connect') throw new PgferryError('connect', 'target: refused', { hint: 'start it' });
      throw new Error('boom');
    })
    .fallback((c) => ({ status: 200, text: `page ${c.req.url}`, type: 'text/html' }));
  const server = createServer((req, res) => void router.handle(req, res));
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  try {
    const api = apiClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    assert.deepEqual((await api.call('GET', '/api/things/a%20b?q=1')).body, { id: 'a b', q: '1' });
    const created = await api.call('POST', '/api/things', { x: 1 });
    assert.equal(created.status, 201);
    assert.deepEqual(created.body, { got: { x: 1 } });
    const badJson = await api.call('POST', '/api/things', '{');
    assert.equal(badJson.status, 400);
    assert.equal(badJson.body.error.code, 'bad_json');
    const usage = await api.call('GET', '/api/fail/usage');
    assert.equal(usage.status, 400);
    assert.deepEqual(usage.body.error, {
      cause: 'bad input postgresql://u:********@h/db',
      fix: 'fix it',
      code: 'usage',
    });
    assert.equal((await api.call('GET', '/api/fail/connect')).status, 502);
    const internal = await api.call('GET', '/api/fail/other');
    assert.equal(internal.status, 500);
    assert.equal(internal.body.error.cause, 'boom');
    assert.equal((await api.call('DELETE', '/api/things/1')).status, 405);
    // a malformed percent-encoding matches no route: 404 with cause and fix, not a 500
    const malformed = await api.call('GET', '/api/things/%zz');
    assert.equal(malformed.status, 404, malformed.text);
    assert.ok(malformed.body.error.fix);
    const unknown = await api.call('GET', '/api/nothing');
    assert.equal(unknown.status, 404);
    assert.ok(unknown.body.error.fix);
    assert.equal((await api.call('GET', '/index.html')).text, 'page /index.html');
  } finally {
    server.close();
  }
});

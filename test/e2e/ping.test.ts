// `pgferry ping`: every failure has its own cause, checked against real servers.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { resolveConnSpec } from '../../src/pg/connstring.js';
import { ping } from '../../src/pg/ping.js';
import { selfSigned, tlsCluster } from '../helpers/certs.js';

let plain: Cluster; // ssl off, password auth for user "alice"
let tls: Cluster; // ssl on with a self-signed certificate, TLS-only for user "bob"
let certDir: string;
let silent: Server;
let silentPort: number;

before(async () => {
  plain = await startCluster({
    version: 15,
    settings: { max_connections: 5, superuser_reserved_connections: 0, password_encryption: "'scram-sha-256'" },
    hba: ['host all alice 127.0.0.1/32 scram-sha-256', 'host all nobody 127.0.0.1/32 reject'],
  });
  const c = new pg.Client({ connectionString: plain.url() });
  await c.connect();
  await c.query(`CREATE ROLE alice LOGIN PASSWORD 'correct horse'`);
  await c.end();

  certDir = mkdtempSync(join(tmpdir(), 'pgferry-cert-'));
  selfSigned(certDir, 'server', { cn: '127.0.0.1', san: 'IP:127.0.0.1' });
  selfSigned(certDir, 'other', { cn: 'other-ca' });
  tls = await tlsCluster(certDir, 'server', [
    'hostnossl all bob 127.0.0.1/32 reject',
    'hostssl all bob 127.0.0.1/32 trust',
  ]);
  const t = new pg.Client({ connectionString: tls.url() });
  await t.connect();
  await t.query('CREATE ROLE bob LOGIN');
  await t.end();

  // Accepts TCP connections and never answers: a server behind a black hole.
  silent = createServer(() => {});
  silentPort = await freePort();
  await new Promise<void>((r) => silent.listen(silentPort, '127.0.0.1', r));
});

after(async () => {
  silent?.close();
  await plain?.stop();
  await tls?.stop();
  if (certDir) rmSync(certDir, { recursive: true, force: true });
});

async function causeOf(conninfo: string): Promise<string> {
  const r = await ping(resolveConnSpec(conninfo, { env: {}, home: '/nonexistent' }), 'source');
  if (r.ok) return 'ok';
  assert.ok(r.hint.length > 10, 'every failure has a fix hint');
  return r.cause;
}

test('OK reports version, database, user and latency', async () => {
  const r = await ping(resolveConnSpec(plain.url('postgres', 'alice', 'correct horse'), { env: {} }), 'source');
  assert.equal(r.ok, true);
  if (r.ok) {
    assert.match(r.serverVersion, /^15\./);
    assert.equal(r.database, 'postgres');
    assert.equal(r.user, 'alice');
    assert.ok(r.latencyMs > 0);
  }
});

test('unknown host', async () => {
  assert.equal(await causeOf('postgresql://u@no-such-host.invalid:5432/db?connect_timeout=5'), 'unknown_host');
});

test('connection refused', async () => {
  const port = await freePort();
  assert.equal(await causeOf(`postgresql://u@127.0.0.1:${port}/db?sslmode=disable`), 'connection_refused');
});

test('timeout', async () => {
  assert.equal(await causeOf(`postgresql://u@127.0.0.1:${silentPort}/db?sslmode=disable&connect_timeout=2`), 'timeout');
});

test('authentication failed', async () => {
  assert.equal(await causeOf(plain.url('postgres', 'alice', 'wrong')), 'auth_failed');
});

test('password missing', async () => {
  assert.equal(await causeOf(plain.url('postgres', 'alice')), 'password_missing');
});

test('role does not exist', async () => {
  assert.equal(await causeOf(plain.url('postgres', 'ghost')), 'role_not_found');
});

test('rejected by pg_hba.conf', async () => {
  assert.equal(await causeOf(plain.url('postgres', 'nobody')), 'not_allowed');
});

test('database does not exist', async () => {
  assert.equal(await causeOf(plain.url('no_such_db')), 'database_not_found');
});

test('TLS required by the server', async () => {
  assert.equal(await causeOf(`postgresql://bob@127.0.0.1:${tls.port}/postgres?sslmode=disable`), 'tls_required');
});

test('TLS demanded but the server has none', async () => {
  assert.equal(
    await causeOf(`postgresql://postgres@127.0.0.1:${plain.port}/postgres?sslmode=require`),
    'tls_unsupported',
  );
});

test('TLS certificate verification fails', async () => {
  const wrongCa = join(certDir, 'other.crt');
  assert.equal(
    await causeOf(
      `postgresql://bob@127.0.0.1:${tls.port}/postgres?sslmode=verify-full&sslrootcert=${encodeURIComponent(wrongCa)}`,
    ),
    'tls_failed',
  );
});

test('TLS works with require, prefer and verify-full against the right CA', async () => {
  const ca = join(certDir, 'server.crt');
  for (const mode of ['require', 'prefer', `verify-full&sslrootcert=${encodeURIComponent(ca)}`]) {
    const r = await ping(
      resolveConnSpec(`postgresql://bob@127.0.0.1:${tls.port}/postgres?sslmode=${mode}`, {
        env: {},
        home: '/nonexistent',
      }),
      'target',
    );
    assert.equal(r.ok, true, `sslmode=${mode}: ${!r.ok ? r.message : ''}`);
    if (r.ok) assert.equal(r.ssl, true);
  }
});

test('too many connections', async () => {
  const held: pg.Client[] = [];
  try {
    for (let i = 0; i < 5; i++) {
      const c = new pg.Client({ connectionString: plain.url() });
      c.on('error', () => {});
      await c.connect();
      held.push(c);
    }
    assert.equal(await causeOf(plain.url()), 'too_many_connections');
  } finally {
    await Promise.all(held.map((c) => c.end().catch(() => {})));
  }
});

test('the password never shows in the result', async () => {
  const r = await ping(resolveConnSpec(plain.url('postgres', 'alice', 'wrongSecret1'), { env: {} }), 'source');
  assert.ok(!JSON.stringify(r).includes('wrongSecret1'));
});

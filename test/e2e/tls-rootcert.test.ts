// TLS as libpq does it: a root certificate in ~/.postgresql/root.crt (or sslrootcert) means the
// server certificate is verified, also with sslmode=require (verify-ca) and prefer; without one,
// require encrypts without verifying. Real certificates, a real TLS server, HOME overridden.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Cluster } from '../../src/dev/embedded/cluster.js';
import { resolveConnSpec } from '../../src/pg/connstring.js';
import { ping, type PingResult } from '../../src/pg/ping.js';
import { selfSigned, signedBy, tlsCluster } from '../helpers/certs.js';

let tls: Cluster;
let dir: string;
const oldHome = process.env.HOME;

/** A CA, a server certificate it signed for a name that is not the host we connect to, and an unrelated CA. */
function makeCertificates(): void {
  selfSigned(dir, 'ca', { cn: 'pgferry test CA', ca: true });
  selfSigned(dir, 'other', { cn: 'other CA', ca: true });
  signedBy(dir, 'server', 'ca', 'db.example');
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pgferry-tls-'));
  makeCertificates();
  tls = await tlsCluster(dir, 'server', [
    'hostnossl all tlsonly 127.0.0.1/32 reject',
    'hostssl all tlsonly 127.0.0.1/32 trust',
  ]);
  const c = new pg.Client({ connectionString: tls.url() });
  await c.connect();
  await c.query('CREATE ROLE tlsonly LOGIN; CREATE ROLE anyway LOGIN');
  await c.end();
});

after(async () => {
  if (oldHome === undefined) delete process.env.HOME;
  else process.env.HOME = oldHome;
  await tls?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A HOME whose ~/.postgresql/root.crt is a copy of `root` (or absent). */
function home(root?: 'ca.crt' | 'other.crt'): string {
  const h = mkdtempSync(join(dir, 'home-'));
  if (root) {
    mkdirSync(join(h, '.postgresql'));
    copyFileSync(join(dir, root), join(h, '.postgresql', 'root.crt'));
  }
  return h;
}

async function pingAs(user: string, params: string, homeDir: string): Promise<PingResult> {
  process.env.HOME = homeDir;
  const url = `postgresql://${user}@127.0.0.1:${tls.port}/postgres?${params}`;
  return ping(resolveConnSpec(url, { env: {}, home: homeDir }), 'source');
}

test('sslmode=require with a wrong ~/.postgresql/root.crt fails on the certificate, naming root.crt', async () => {
  const h = home('other.crt');
  const r = await pingAs('tlsonly', 'sslmode=require', h);
  assert.equal(r.ok, false, 'the certificate was not verified');
  if (!r.ok) {
    assert.equal(r.cause, 'tls_failed', r.message);
    assert.ok(r.hint.includes(join(h, '.postgresql', 'root.crt')), r.hint);
    assert.match(r.hint, /verify-ca/);
  }
});

test('sslmode=require with the right root.crt verifies the chain but not the host name (verify-ca)', async () => {
  const h = home('ca.crt');
  const r = await pingAs('tlsonly', 'sslmode=require', h);
  assert.equal(r.ok, true, !r.ok ? r.message : '');
  if (r.ok) assert.equal(r.ssl, true);
  // The certificate names db.example, not 127.0.0.1: verify-full refuses what require (verify-ca) accepts.
  const full = await pingAs('tlsonly', 'sslmode=verify-full', h);
  assert.equal(full.ok, false);
  if (!full.ok) assert.equal(full.cause, 'tls_failed');
});

test('sslmode=require without a root certificate still connects, encrypted and unverified', async () => {
  const r = await pingAs('tlsonly', 'sslmode=require', home());
  assert.equal(r.ok, true, !r.ok ? r.message : '');
  if (r.ok) assert.equal(r.ssl, true);
});

test('an explicit sslrootcert is used the same way, and wins over root.crt', async () => {
  const wrong = await pingAs(
    'tlsonly',
    `sslmode=require&sslrootcert=${encodeURIComponent(join(dir, 'other.crt'))}`,
    home('ca.crt'),
  );
  assert.equal(wrong.ok, false);
  if (!wrong.ok) assert.equal(wrong.cause, 'tls_failed');
  const right = await pingAs(
    'tlsonly',
    `sslmode=require&sslrootcert=${encodeURIComponent(join(dir, 'ca.crt'))}`,
    home('other.crt'),
  );
  assert.equal(right.ok, true, !right.ok ? right.message : '');
});

test('sslmode=prefer with a wrong root.crt falls back to an unencrypted session, as libpq does', async () => {
  const h = home('other.crt');
  const r = await pingAs('anyway', 'sslmode=prefer', h);
  assert.equal(r.ok, true, !r.ok ? r.message : '');
  if (r.ok) assert.equal(r.ssl, false, 'the unverified TLS session was not used');
  // Where the server accepts TLS only, there is nothing to fall back to.
  const only = await pingAs('tlsonly', 'sslmode=prefer', h);
  assert.equal(only.ok, false);
  if (!only.ok) assert.equal(only.cause, 'tls_failed', 'the certificate is reported, not the refused plain session');
});

test('sslrootcert=system allows verify-full only (libpq 16)', () => {
  assert.throws(
    () => resolveConnSpec('host=h sslmode=require sslrootcert=system', { env: {} }),
    /weak sslmode "require" may not be used with sslrootcert=system/,
  );
  assert.equal(resolveConnSpec('host=h sslrootcert=system', { env: {} }).sslmode, 'verify-full');
});

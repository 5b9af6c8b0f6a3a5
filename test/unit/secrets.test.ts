// Connection strings at rest: AES-256-GCM under the data dir's key file (0600) or $PGFERRY_SECRET_KEY;
// a tampered file or another key is refused with the cause and the fix, never read as something else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSecretKey, SecretBox, SECRETS_FILE } from '../../src/server/secrets.js';
import { PgferryError } from '../../src/core/errors.js';

const secrets = { source: 'postgresql://a:S3cret-src@h/db', target: "host=h dbname=t user=b password='S3cret tgt'" };

test('secrets round-trip under the key file, which is private; the file holds no password', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgferry-secrets-'));
  try {
    const key = loadSecretKey(dir, {});
    assert.equal(statSync(join(dir, '.secret-key')).mode & 0o777, 0o600);
    assert.deepEqual(loadSecretKey(dir, {}), key, 'the same key on the next start');
    const box = new SecretBox(key, dir);
    await box.save('t1', secrets);
    const file = join(dir, 't1', SECRETS_FILE);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const text = readFileSync(file, 'utf8');
    assert.ok(!text.includes('S3cret'));
    assert.deepEqual(box.load('t1'), secrets);
    assert.equal(box.load('t2'), undefined);
    // one bit changed: refused
    const [v, iv, tag, body] = text.trim().split('.');
    const flipped = Buffer.from(body, 'base64');
    flipped[0] ^= 1;
    writeFileSync(file, [v, iv, tag, flipped.toString('base64')].join('.'));
    assert.throws(
      () => box.load('t1'),
      (e: unknown) => e instanceof PgferryError && /cannot be decrypted/.test(e.message) && /PUT/.test(e.hint ?? ''),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('$PGFERRY_SECRET_KEY is used instead of a key file; another key cannot open the secrets', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgferry-secrets-'));
  try {
    const env = { PGFERRY_SECRET_KEY: 'ab'.repeat(32) };
    const box = new SecretBox(loadSecretKey(dir, env), dir);
    assert.throws(() => statSync(join(dir, '.secret-key')), /ENOENT/);
    await box.save('t1', secrets);
    assert.deepEqual(new SecretBox(loadSecretKey(dir, env), dir).load('t1'), secrets);
    const other = new SecretBox(loadSecretKey(dir, { PGFERRY_SECRET_KEY: 'cd'.repeat(32) }), dir);
    assert.throws(() => other.load('t1'), /cannot be decrypted/);
    assert.throws(() => loadSecretKey(dir, { PGFERRY_SECRET_KEY: 'short' }), /not 32 bytes/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

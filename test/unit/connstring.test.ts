import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConnString, resolveConnSpec, toSafeUri, lookupPgpass } from '../../src/pg/connstring.js';
import { redact } from '../../src/core/redact.js';
import { parseQualifiedName, quoteIdent } from '../../src/core/ident.js';

test('URI with percent-encoding, IPv6, params', () => {
  const r = parseConnString('postgresql://us%40er:p%2Fw@[::1]:6543/my%20db?sslmode=verify-full&application_name=x');
  assert.deepEqual(r, {
    user: 'us@er',
    password: 'p/w',
    host: '::1',
    port: '6543',
    dbname: 'my db',
    sslmode: 'verify-full',
    application_name: 'x',
  });
});

test('keyword/value string with quotes and escapes', () => {
  const r = parseConnString("host=db1 port = 5433 dbname='my db' password='it\\'s' user=bob");
  assert.deepEqual(r, { host: 'db1', port: '5433', dbname: 'my db', password: "it's", user: 'bob' });
});

test('unknown parameter is a clear error', () => {
  assert.throws(() => parseConnString('host=x colour=blue'), /unknown connection parameter "colour"/);
});

test('environment variables fill what the string leaves out', () => {
  const s = resolveConnSpec('dbname=app', {
    env: { PGHOST: 'h', PGPORT: '5999', PGUSER: 'u', PGSSLMODE: 'require' },
    home: '/nonexistent',
  });
  assert.equal(s.host, 'h');
  assert.equal(s.port, 5999);
  assert.equal(s.user, 'u');
  assert.equal(s.database, 'app');
  assert.equal(s.sslmode, 'require');
  assert.equal(s.applicationName, 'pgferry');
});

test('pgpass lookup honours wildcards, escapes and permissions', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgpass-'));
  const f = join(dir, 'pgpass');
  writeFileSync(f, '# comment\nother:*:*:*:nope\nh1:5432:*:bob:se\\:cret\n*:*:*:*:fallback\n');
  chmodSync(f, 0o600);
  assert.equal(lookupPgpass(f, 'h1', 5432, 'db', 'bob'), 'se:cret');
  assert.equal(lookupPgpass(f, 'h2', 5432, 'db', 'bob'), 'fallback');
  chmodSync(f, 0o644);
  assert.equal(lookupPgpass(f, 'h1', 5432, 'db', 'bob'), undefined);
});

test('passwords never survive redaction or the safe URI', () => {
  const s = resolveConnSpec('postgresql://alice:Sup3rS3cret@db:5432/app', { env: {}, home: '/nonexistent' });
  assert.equal(s.password, 'Sup3rS3cret');
  assert.ok(!toSafeUri(s).includes('Sup3rS3cret'));
  assert.equal(
    redact('failed for postgresql://alice:Sup3rS3cret@db/app'),
    'failed for postgresql://alice:********@db/app',
  );
  assert.equal(redact('error near Sup3rS3cret here'), 'error near ******** here');
  assert.equal(redact("host=x password='a b' user=y"), 'host=x password=******** user=y');
});

test('invalid sslmode and port name the fix', () => {
  assert.throws(() => resolveConnSpec('sslmode=maybe', { env: {} }), /invalid sslmode "maybe"/);
  assert.throws(() => resolveConnSpec('port=99999', { env: {} }), /invalid port/);
});

test('identifier quoting and parsing', () => {
  assert.equal(quoteIdent('orders'), 'orders');
  assert.equal(quoteIdent('Orders'), '"Orders"');
  assert.equal(quoteIdent('user'), '"user"');
  assert.equal(quoteIdent('a"b'), '"a""b"');
  assert.deepEqual(parseQualifiedName('"My Schema"."Order Items"'), ['My Schema', 'Order Items']);
  assert.deepEqual(parseQualifiedName('Public.Child'), ['public', 'child']);
  assert.deepEqual(parseQualifiedName('"a""b".c'), ['a"b', 'c']);
  assert.throws(() => parseQualifiedName('a.b.c'), /expected name or schema.name/);
});

// A redactor per task: passwords resolved for one task are scrubbed by that task's redactor and
// reach neither another task's nor the process-wide one; every redactor scrubs URI and
// password= forms; errors are scrubbed in place.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConnSpec } from '../../src/pg/connstring.js';
import { PgferryError } from '../../src/core/errors.js';
import { StateDir } from '../../src/state/state-dir.js';
import { defaultRedactor, redact, Redactor } from '../../src/core/redact.js';

test('passwords from every source go to the redactor given, never to the process-wide one', () => {
  const home = mkdtempSync(join(tmpdir(), 'pgferry-redactor-'));
  try {
    writeFileSync(join(home, '.pgpass'), 'h4:5432:*:*:Pgpass-pw-4\n');
    chmodSync(join(home, '.pgpass'), 0o600);
    const mine = new Redactor();
    const other = new Redactor();
    resolveConnSpec('postgresql://u:Uri-pw-1@h1/db', { env: {}, home, redactor: mine });
    resolveConnSpec("host=h2 user=u password='Kv-pw-2'", { env: {}, home, redactor: mine });
    resolveConnSpec('host=h3 user=u', { env: { PGPASSWORD: 'Env-pw-3' }, home, redactor: mine });
    assert.equal(resolveConnSpec('host=h4 user=u', { env: {}, home, redactor: mine }).password, 'Pgpass-pw-4');
    resolveConnSpec('postgresql://u:Other-pw-5@h5/db', { env: {}, home, redactor: other });
    const text = 'Uri-pw-1 Kv-pw-2 Env-pw-3 Pgpass-pw-4 Other-pw-5';
    assert.equal(mine.redact(text), '******** ******** ******** ******** Other-pw-5');
    assert.equal(other.redact(text), 'Uri-pw-1 Kv-pw-2 Env-pw-3 Pgpass-pw-4 ********');
    assert.equal(redact(text), text, 'nothing reached the process-wide redactor');
    for (const pw of text.split(' ')) assert.equal(defaultRedactor.knows(pw), false);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('without a redactor, the command line one learns the password (its behaviour is kept)', () => {
  resolveConnSpec('postgresql://u:Cli-pw-6@h6/db', { env: {}, home: '/nonexistent' });
  assert.equal(redact('failed: Cli-pw-6'), 'failed: ********');
});

test('every redactor scrubs URI and password= forms; errors are scrubbed in place', () => {
  const r = new Redactor();
  assert.equal(
    r.redact('postgresql://u:x@h/db and host=h password=y'),
    'postgresql://u:********@h/db and host=h password=********',
  );
  r.add('Err-pw-7');
  const e = new PgferryError('data', 'copy failed near Err-pw-7', { hint: 'check Err-pw-7' });
  assert.equal(r.scrubError(e), e);
  assert.ok(e instanceof PgferryError && e.kind === 'data');
  assert.equal(e.message, 'copy failed near ********');
  assert.equal(e.hint, 'check ********');
  assert.ok(!String(e.stack).includes('Err-pw-7'));
});

test('a state dir scrubs with the redactor it was given', () => {
  const root = mkdtempSync(join(tmpdir(), 'pgferry-redactor-state-'));
  try {
    const r = new Redactor();
    r.add('State-pw-8');
    const state = new StateDir(root, 'scrubbed', r);
    state.writeJson('task.json', { note: 'State-pw-8' });
    state.writeText('report.md', 'State-pw-8');
    assert.deepEqual(state.readJson('task.json'), { version: 1, note: '********' });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

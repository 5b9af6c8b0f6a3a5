// CLI conventions that need no server: usage errors exit 2 with one line, sizes with units in
// flags, task files and throttle, typo suggestions for task-file keys, option scoping in help.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRate, parseSize, fmtBytes } from '../../src/core/size.js';
import { validateTask, loadTaskFile } from '../../src/core/config.js';
import { PgferryError } from '../../src/core/errors.js';
import { cliInProcess, cliSync } from './run.js';

const S = 'postgresql://u@127.0.0.1:1/a';
const T = 'postgresql://u@127.0.0.1:1/b';

async function assertUsage(argv: string[], cause: RegExp): Promise<void> {
  const r = await cliInProcess(argv);
  assert.equal(r.code, 2, `${argv.join(' ')}: exit ${r.code}\n${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line for ${argv.join(' ')}:\n${r.stderr}`);
  assert.match(lines[0], cause);
  assert.equal(r.stdout, '');
}

test('usage errors: unknown flag, bad number, missing and extra argument exit 2 with one line', async () => {
  await assertUsage(['migrate', '--bogus', '-s', S, '-t', T], /^pgferry migrate: unknown option '--bogus'/);
  await assertUsage(['migrate', '--jbos', '2'], /unknown option '--jbos'/);
  await assertUsage(
    ['migrate', '-s', S, '-t', T, '--jobs', 'abc'],
    /--jobs <n>' argument 'abc' is invalid\. expected a whole number 0\.\.64/,
  );
  // 0 (no local workers) is only for a distributed copy
  await assertUsage(['migrate', '-s', S, '-t', T, '--jobs', '0'], /--jobs 0 copies nothing without workers/);
  await assertUsage(['migrate', '-s', S, '-t', T, '--max-bytes-per-sec', '5 parsecs'], /expected bytes per second/);
  await assertUsage(['verify', '-s', S, '-t', T, '--examples', '-1'], /--examples/);
  await assertUsage(['demo', '--scale', 'big'], /--scale <n>' argument 'big' is invalid/);
  await assertUsage(['throttle'], /^pgferry throttle: missing required argument 'task'/);
  await assertUsage(['throttle', 'a', 'b'], /too many arguments/);
  await assertUsage(['status', 'a', 'b'], /too many arguments/);
  await assertUsage(['migrate', '-s', S, '-t', T, 'extra'], /too many arguments/);
  await assertUsage(['nosuch'], /unknown command 'nosuch'/);
  await assertUsage([], /missing command/);
  await assertUsage(['verify', '-s', S, '-t', T, '--owner-to', 'x'], /unknown option '--owner-to'/);
});

test('help lists only the options that apply to the command', async () => {
  const help = async (cmd: string) => (await cliInProcess([cmd, '--help'])).stdout;
  const verify = await help('verify');
  for (const f of ['--if-exists', '--owner-to', '--no-owner', '--no-acl', '--state-dir', '--name']) {
    assert.doesNotMatch(verify, new RegExp(`${f}\\b`), `verify ${f}`);
  }
  assert.match(verify, /--mode/);
  const plan = await help('plan');
  for (const f of ['--if-exists', '--state-dir', '--name', '--target']) {
    assert.doesNotMatch(plan, new RegExp(`${f}\\b`), `plan ${f}`);
  }
  assert.match(plan, /--owner-to/);
  assert.doesNotMatch(await help('precheck'), /--state-dir/);
  const migrate = await help('migrate');
  for (const f of ['--if-exists', '--state-dir', '--name', '--max-bytes-per-sec <size>']) {
    assert.match(migrate, new RegExp(f));
  }
  assert.equal((await cliInProcess(['verify', '--help'])).code, 0);
});

test('one size parser: units in PostgreSQL style (1024), IEC spellings, rates and counts', () => {
  assert.equal(parseSize('500kB', 'x'), 500 * 1024);
  assert.equal(parseSize('50MB', 'x'), 50 * 1024 ** 2);
  assert.equal(parseSize('1GiB', 'x'), 1024 ** 3);
  assert.equal(parseSize('1.5 gb', 'x'), 1.5 * 1024 ** 3);
  assert.equal(parseSize('123', 'x'), 123);
  assert.equal(parseSize('2', 'x', 1024 ** 2), 2 * 1024 ** 2);
  assert.throws(() => parseSize('5 parsecs', 'x'));
  assert.throws(() => parseSize('MB', 'x'));
  assert.equal(parseRate('20k', 'x', 'rows'), 20000);
  assert.equal(parseRate('50MB/s', 'x', 'bytes'), 50 * 1024 ** 2);
  assert.equal(parseRate('off', 'x', 'bytes'), null);
  assert.equal(parseRate(0, 'x', 'rows'), null);
  assert.equal(fmtBytes(1536), '1.5 kB');
  assert.equal(fmtBytes(50 * 1024 ** 2), '50.0 MB');
  assert.equal(fmtBytes(12), '12 B');
});

test('task files and flags take sizes with units', () => {
  const copy = { maxBytesPerSec: '50MB', maxRowsPerSec: '20k', unitMB: '1GiB', splitThresholdMB: '512MB' };
  const t = validateTask({ source: S, target: T, copy });
  assert.equal(t.copy.maxBytesPerSec, 50 * 1024 ** 2);
  assert.equal(t.copy.maxRowsPerSec, 20000);
  assert.equal(t.copy.unitMB, 1024);
  assert.equal(t.copy.splitThresholdMB, 512);
  assert.equal(validateTask({ source: S, target: T, copy: { unitMB: 64 } }).copy.unitMB, 64);
  assert.throws(
    () => validateTask({ source: S, target: T, copy: { maxBytesPerSec: 'lots' } }),
    /copy\.maxBytesPerSec: cannot read "lots" as bytes per second/,
  );
});

test('a typo in a task-file key names the line and suggests the key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgferry-cli-task-'));
  try {
    const file = join(dir, 'task.yaml');
    const yaml = [
      `source: ${S}`,
      `target: ${T}`,
      'jbos: 3',
      'copy:',
      '  maxBytesPerSek: 50MB',
      'tables:',
      '  public.users:',
      '    colums: [id]',
      'whatever: 1',
    ];
    writeFileSync(file, yaml.join('\n') + '\n');
    assert.throws(
      () => loadTaskFile(file),
      (e: unknown) => {
        assert.ok(e instanceof PgferryError && e.kind === 'usage');
        const m = (e as Error).message;
        assert.match(m, /task\.yaml:3: jbos: unknown key — did you mean "jobs"\?/);
        assert.match(m, /task\.yaml:5: copy\.maxBytesPerSek: unknown key — did you mean "maxBytesPerSec"\?/);
        assert.match(m, /task\.yaml:8: tables\.public\.users\.colums: unknown key — did you mean "columns"\?/);
        assert.match(m, /whatever: unknown key — known keys here: name, source, target/);
        return true;
      },
    );
    const r = cliSync(['precheck', '--task', file]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /did you mean "jobs"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('throttle: sizes with units; an unknown task is an error and creates nothing', () => {
  const root = mkdtempSync(join(tmpdir(), 'pgferry-cli-throttle-'));
  try {
    const r = cliSync(['throttle', 'nosuch', '--bytes', '50MB', '--state-dir', root]);
    assert.equal(r.code, 7, r.stderr);
    assert.match(r.stderr, /no task "nosuch"/);
    assert.equal(existsSync(join(root, 'nosuch')), false);
    mkdirSync(join(root, 't1'));
    writeFileSync(join(root, 't1', 'task.json'), JSON.stringify({ version: 1, name: 't1' }));
    const ok = cliSync(['throttle', 't1', '--bytes', '1.5GiB', '--rows', '20k', '--jobs', '3', '--state-dir', root]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /rows\/s 20,000, bytes\/s 1\.5 GB, jobs 3/);
    const ctl = JSON.parse(readFileSync(join(root, 't1', 'control.json'), 'utf8'));
    assert.equal(ctl.maxBytesPerSec, 1.5 * 1024 ** 3);
    assert.equal(ctl.maxRowsPerSec, 20000);
    const bad = cliSync(['throttle', 't1', '--bytes', 'fast', '--state-dir', root]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--bytes <size>' argument 'fast' is invalid/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

// The distributed flags explain a wrong combination before connecting anywhere: --control without
// --distributed, --distributed without --control, --jobs 0 without workers to copy; and
// `pgferry worker` needs --control.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from '../cli/run.js';

const base = ['migrate', '-s', 'postgresql://u@127.0.0.1:1/a', '-t', 'postgresql://u@127.0.0.1:1/b'];

test('migrate: a wrong combination of --distributed, --control and --jobs 0 names the cause and the fix', async () => {
  const [noDist, noControl, zero, incremental] = await Promise.all([
    cli([...base, '--control', 'postgresql://u@127.0.0.1:1/c']),
    cli([...base, '--distributed']),
    cli([...base, '--jobs', '0']),
    cli([...base, '--distributed', '--control', 'postgresql://u@127.0.0.1:1/c', '--incremental']),
  ]);
  assert.equal(noDist.code, 2, noDist.stderr);
  assert.match(noDist.stderr, /--control is for a distributed copy[\s\S]*add --distributed/);
  assert.equal(noControl.code, 2, noControl.stderr);
  assert.match(noControl.stderr, /--distributed needs the control database[\s\S]*--control postgresql:/);
  assert.equal(zero.code, 2, zero.stderr);
  assert.match(zero.stderr, /--jobs 0 copies nothing without workers[\s\S]*--distributed --control/);
  assert.equal(incremental.code, 2, incremental.stderr);
  // the task's own rule (core/config.ts), as the service says it too
  assert.match(
    incremental.stderr,
    /task: distributed: a distributed task cannot be incremental yet[\s\S]*leave out distributed \(--distributed\) or incremental \(--incremental\)/,
  );
});

test('worker: --control is required', async () => {
  const r = await cli(['worker']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--control/);
});

test('migrate: a task file with distributed: true needs --distributed --control', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgferry-usage-'));
  try {
    const file = join(dir, 'task.yaml');
    writeFileSync(
      file,
      'source: postgresql://u@127.0.0.1:1/a\ntarget: postgresql://u@127.0.0.1:1/b\ndistributed: true\n',
    );
    const r = await cli(['migrate', '--task', file, '--state-dir', join(dir, 'state')]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /the task is distributed: it needs the control database[\s\S]*--distributed --control/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

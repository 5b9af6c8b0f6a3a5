// $PGFERRY_STATE_DIR is read by the command line only: the state dir root of an embedded run is
// what its task says (default ./.pgferry); on the command line --state-dir, then the task file's
// stateDir, then $PGFERRY_STATE_DIR.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readControls, StateDir } from '../../src/state/state-dir.js';
import { taskFromOptions } from '../../src/cli/options.js';
import { throttleCommand } from '../../src/cli/commands/throttle.js';

const saved = process.env.PGFERRY_STATE_DIR;
const dir = mkdtempSync(join(tmpdir(), 'pgferry-state-env-'));
after(() => {
  if (saved === undefined) delete process.env.PGFERRY_STATE_DIR;
  else process.env.PGFERRY_STATE_DIR = saved;
  rmSync(dir, { recursive: true, force: true });
});

const conn = { source: 'postgresql://u@h/s', target: 'postgresql://u@h/t' };

test('the state dir root is not read from the environment below the command line', () => {
  process.env.PGFERRY_STATE_DIR = join(dir, 'from-env');
  assert.equal(StateDir.rootFor(undefined), resolve('.pgferry'));
  assert.equal(StateDir.rootFor(join(dir, 'given')), join(dir, 'given'));
});

test('the command line applies $PGFERRY_STATE_DIR after --state-dir and the task file', async () => {
  process.env.PGFERRY_STATE_DIR = join(dir, 'from-env');
  assert.equal(taskFromOptions({ ...conn }).stateDir, join(dir, 'from-env'));
  assert.equal(taskFromOptions({ ...conn, stateDir: join(dir, 'flag') }).stateDir, join(dir, 'flag'));
  const file = join(dir, 'task.yaml');
  writeFileSync(file, `source: ${conn.source}\ntarget: ${conn.target}\nstateDir: ${join(dir, 'file')}\n`);
  assert.equal(taskFromOptions({ task: file }).stateDir, join(dir, 'file'));

  // throttle (like status and finish) finds the task under $PGFERRY_STATE_DIR (a task migrate started)
  new StateDir(join(dir, 'from-env'), 'env-task').writeJson('task.json', { name: 'env-task', status: 'running' });
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    await throttleCommand().exitOverride().parseAsync(['env-task', '--rows', '500'], { from: 'user' });
  } finally {
    process.stdout.write = write;
  }
  const controls = readControls(new StateDir(join(dir, 'from-env'), 'env-task'));
  assert.equal(controls?.maxRowsPerSec, 500);
});

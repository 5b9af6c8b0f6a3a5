// `pgferry throttle <task> --pause` writes paused into control.json (which the copy follows:
// test/e2e/migrate-controls.test.ts); --resume clears it; both together are a usage error.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { throttleCommand } from '../../src/cli/commands/throttle.js';
import { readControls, StateDir } from '../../src/state/state-dir.js';

const root = mkdtempSync(join(tmpdir(), 'pgferry-pause-'));
after(() => rmSync(root, { recursive: true, force: true }));

async function throttle(args: string[]): Promise<string> {
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((s: string) => lines.push(String(s)) > 0) as typeof process.stdout.write;
  try {
    await throttleCommand()
      .exitOverride()
      .parseAsync([...args, '--state-dir', root], { from: 'user' });
  } finally {
    process.stdout.write = write;
  }
  return lines.join('');
}

test('throttle --pause and --resume set and clear paused in control.json, keeping the other limits', async () => {
  const state = new StateDir(root, 'p');
  state.writeJson('task.json', { name: 'p', status: 'running' });
  assert.match(await throttle(['p', '--rows', '500', '--pause']), /p: rows\/s 500, bytes\/s unlimited, paused/);
  assert.deepEqual(readControls(state), { version: 1, maxRowsPerSec: 500, paused: true });
  assert.doesNotMatch(await throttle(['p', '--resume']), /paused/);
  assert.deepEqual(readControls(state), { version: 1, maxRowsPerSec: 500, paused: false });
  await assert.rejects(throttle(['p', '--pause', '--resume']), /--pause and --resume together/);
});

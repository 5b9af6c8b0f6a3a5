// The state directory is private whatever the umask: 0700 directories, 0600 files.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus } from '../../src/core/events.js';
import { openEventLog } from '../../src/state/eventlog.js';
import { StateDir } from '../../src/state/state-dir.js';
import { FileTaskStore } from '../../src/state/file-store.js';
import { throttleCommand } from '../../src/cli/commands/throttle.js';

let base: string;
let oldUmask: number;
before(() => {
  oldUmask = process.umask(0o000);
  base = mkdtempSync(join(tmpdir(), 'pgferry-state-'));
  chmodSync(base, 0o755);
});
after(() => {
  process.umask(oldUmask);
  rmSync(base, { recursive: true, force: true });
});

const mode = (p: string) => statSync(p).mode & 0o777;

/** Every file and directory under `dir` → its mode, e.g. { 'task.json': 0o600 }. */
function modes(dir: string): Record<string, number> {
  return Object.fromEntries(readdirSync(dir, { recursive: true }).map((n) => [String(n), mode(join(dir, String(n)))]));
}

async function useAllFiles(state: StateDir): Promise<void> {
  state.writeJson('task.json', { status: 'running', config: { source: 'postgresql://u@h/db' } });
  // events.jsonl as the runner writes it: through the task's event log
  const bus = new EventBus();
  const log = openEventLog(state, bus, state.task);
  bus.warn('row (1, secret) failed');
  bus.warn('second');
  await log.close();
  // the lease of the state-dir task store, as a run takes it
  const store = new FileTaskStore(join(state.dir, '..'));
  const lease = await store.lease(state.task, 'pgferry test', 10_000);
  assert.ok(lease);
  assert.equal(mode(state.path('lease.json')), 0o600);
  state.writeJson('report.json', { ok: true });
  state.writeText('report.md', '# report\n');
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    await throttleCommand()
      .exitOverride()
      .parseAsync([state.task, '--rows', '1000', '--state-dir', join(state.dir, '..')], { from: 'user' });
  } finally {
    process.stdout.write = write;
  }
  await store.release(lease);
}

test('a new state dir (and the directories above it that pgferry creates) is 0700, every file 0600, with umask 000', async () => {
  const root = join(base, 'new', 'nested', '.pgferry');
  const state = new StateDir(root, 'task1');
  await useAllFiles(state);
  assert.deepEqual(modes(state.dir), {
    'task.json': 0o600,
    'events.jsonl': 0o600,
    'report.json': 0o600,
    'report.md': 0o600,
    'control.json': 0o600,
  });
  for (const d of [state.dir, root, join(base, 'new', 'nested'), join(base, 'new')]) assert.equal(mode(d), 0o700, d);
  assert.equal(mode(base), 0o755, 'a directory that already existed is left alone');
});

test('files and the task dir left readable by an earlier run are made private before anything is written', async () => {
  const root = join(base, 'old');
  const dir = join(root, 'task2');
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  for (const f of [
    'task.json',
    'events.jsonl',
    'lease.json',
    'report.json',
    'report.md',
    'control.json',
    '.task.json.tmp',
  ]) {
    writeFileSync(join(dir, f), '{"version":1}', { mode: 0o644 });
  }
  await useAllFiles(new StateDir(root, 'task2'));
  for (const [name, m] of Object.entries(modes(dir))) assert.equal(m, 0o600, name);
  assert.equal(mode(dir), 0o700);
  assert.equal(mode(root), 0o755, 'the root existed already: left alone');
});

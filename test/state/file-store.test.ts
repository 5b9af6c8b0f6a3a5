// The state-dir task store through the shared TaskStore suite, plus what only it has: task.json as
// `status` and the runner read it.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileTaskStore } from '../../src/state/file-store.js';
import { readStatus } from '../../src/stages/report/status.js';
import { StateDir } from '../../src/state/state-dir.js';
import { taskStoreSuite } from './store-suite.js';

const root = mkdtempSync(join(tmpdir(), 'pgferry-filestore-'));
after(() => rmSync(root, { recursive: true, force: true }));

taskStoreSuite('state directory', async () => new FileTaskStore(root));

test('task.json keeps the fields of today at the top level, private; one written today reads as a record', async () => {
  const s = new FileTaskStore(root);
  const info = { source: 'postgresql://u@src/app', startedAt: 'x' };
  await s.create('today', { status: 'running', phase: 'data', info });
  const state = new StateDir(root, 'today');
  const doc = JSON.parse(readFileSync(state.path('task.json'), 'utf8'));
  assert.equal(doc.version, 1);
  assert.equal(doc.name, 'today');
  assert.equal(doc.source, 'postgresql://u@src/app');
  assert.equal(statSync(state.path('task.json')).mode & 0o777, 0o600);
  const st = await readStatus(state, { checkpoints: false });
  assert.equal(st.phase, 'data');
  assert.equal(st.source, 'postgresql://u@src/app');
  new StateDir(root, 'written-by-runner').writeJson('task.json', {
    name: 'written-by-runner',
    status: 'done',
    phase: 'report',
    error: 'e',
    config: { jobs: 4 },
  });
  const r = await s.get('written-by-runner');
  assert.equal(r?.status, 'done');
  assert.deepEqual(r?.config, { jobs: 4 });
  assert.equal(r?.info.error, 'e');
});

test('a lease whose process died on this host is void at once; one of a live process holds until it expires', async () => {
  const s = new FileTaskStore(root);
  await s.create('orphan', {});
  const dead = spawnSync(process.execPath, ['-e', '']).pid;
  const state = new StateDir(root, 'orphan');
  const until = new Date(Date.now() + 60_000).toISOString();
  const lease = (pid: number) => ({
    taskId: 'orphan',
    holder: `pgferry pid ${pid}`,
    token: 't',
    expiresAt: until,
    pid,
  });
  writeFileSync(state.path('lease.json'), JSON.stringify({ ...lease(process.pid), host: hostname() }));
  assert.equal(await s.lease('orphan', 'next', 1000), undefined, 'a live holder keeps it');
  assert.equal(state.runningPid(), process.pid);
  writeFileSync(state.path('lease.json'), JSON.stringify({ ...lease(dead), host: 'another-host' }));
  assert.equal(await s.lease('orphan', 'next', 1000), undefined, "another host's process is not looked up");
  writeFileSync(state.path('lease.json'), JSON.stringify({ ...lease(dead), host: hostname() }));
  assert.equal(state.runningPid(), undefined, 'status does not call it running');
  assert.equal(await s.currentLease('orphan'), undefined);
  const next = await s.lease('orphan', 'next', 1000);
  assert.equal(next?.holder, 'next');
});

// The state-dir task store through the shared TaskStore suite, plus what only it has: task.json as
// `status` and the runner read it.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
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

// control.json (pgferry throttle, or by hand) is polled into the run's live controls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Controls } from '../../src/stages/data/copy/controls.js';
import { attachControlFile } from '../../src/stages/data/copy/control-file.js';
import { StateDir } from '../../src/state/state-dir.js';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('control.json changes reach the controls; absent fields keep their value; detach stops polling', async () => {
  const root = mkdtempSync(join(tmpdir(), 'pgferry-ctlfile-'));
  try {
    const state = new StateDir(root, 't');
    state.ensure();
    const controls = new Controls({ maxRowsPerSec: 500, maxBytesPerSec: 1000, jobs: 4 });
    const heard: unknown[] = [];
    controls.onChange((v) => heard.push({ ...v }));
    const detach = attachControlFile(state, controls, 20);
    await wait(60);
    assert.deepEqual(heard, []); // no control.json yet
    writeFileSync(state.path('control.json'), JSON.stringify({ maxRowsPerSec: 2000, jobs: 2, paused: true }));
    await wait(100);
    assert.deepEqual(heard, [{ maxRowsPerSec: 2000, maxBytesPerSec: 1000, jobs: 2, paused: true }]);
    writeFileSync(state.path('control.json'), '{ not json');
    await wait(60);
    detach();
    writeFileSync(state.path('control.json'), JSON.stringify({ maxRowsPerSec: null, paused: false }));
    await wait(60);
    assert.equal(heard.length, 1);
    assert.deepEqual(controls.values, { maxRowsPerSec: 2000, maxBytesPerSec: 1000, jobs: 2, paused: true });
    // a control.json written while nothing ran applies as soon as a run attaches
    const next = new Controls({ jobs: 4 });
    attachControlFile(state, next, 60_000)();
    assert.deepEqual(next.values, { maxRowsPerSec: null, maxBytesPerSec: null, jobs: 4, paused: false });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

// Live controls and the unit pump: at most `jobs` units at a time, read live; none started while paused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CopyUnit } from '../../src/stages/data/plan/units.js';
import { Controls } from '../../src/stages/data/copy/controls.js';
import { UnitPump, UnitQueue } from '../../src/stages/data/copy/queue.js';

const unit = (i: number) => ({ id: `u${i}` }) as CopyUnit;
const tick = () => new Promise((r) => setImmediate(r));

function harness(n: number, controls: Controls) {
  const started: string[] = [];
  const finish = new Map<string, () => void>();
  let failure: unknown;
  const pump = new UnitPump({
    queue: new UnitQueue(Array.from({ length: n }, (_, i) => unit(i))),
    controls,
    runUnit: (u) =>
      new Promise<void>((res) => {
        started.push(u.id);
        finish.set(u.id, res);
      }),
    failed: () => failure !== undefined,
    fail: (e) => {
      failure = e;
    },
  });
  controls.onChange(() => pump.wake());
  const end = async (id: string) => {
    finish.get(id)!();
    await tick();
  };
  return { pump, started, end };
}

test('controls: changes are normalised, and listeners hear only real changes', () => {
  const c = new Controls({ maxRowsPerSec: 100, maxBytesPerSec: null, jobs: 2 });
  const heard: string[] = [];
  c.onChange((v) => heard.push(JSON.stringify(v)));
  assert.equal(c.set({ maxRowsPerSec: 100 }), false);
  assert.equal(c.set({ maxRowsPerSec: 0, jobs: 99 }), true);
  assert.equal(c.set({ jobs: 0 }), false);
  assert.equal(c.set({ jobs: 1.5, paused: true }), true);
  assert.deepEqual(heard, [
    '{"maxRowsPerSec":null,"maxBytesPerSec":null,"jobs":64,"paused":false}',
    '{"maxRowsPerSec":null,"maxBytesPerSec":null,"jobs":64,"paused":true}',
  ]);
});

test('pump: jobs read live, pause holds back new units', async () => {
  const controls = new Controls({ jobs: 2 });
  const h = harness(6, controls);
  const done = h.pump.run();
  assert.deepEqual(h.started, ['u0', 'u1']);
  controls.set({ jobs: 3 });
  assert.deepEqual(h.started, ['u0', 'u1', 'u2']);
  controls.set({ jobs: 1 });
  await h.end('u0');
  await h.end('u1');
  assert.deepEqual(h.started, ['u0', 'u1', 'u2']);
  controls.set({ paused: true });
  await h.end('u2');
  assert.equal(h.pump.running, 0);
  assert.deepEqual(h.started, ['u0', 'u1', 'u2']);
  controls.set({ paused: false });
  assert.deepEqual(h.started, ['u0', 'u1', 'u2', 'u3']);
  for (const id of ['u3', 'u4', 'u5']) await h.end(id);
  await done;
  assert.deepEqual(h.started, ['u0', 'u1', 'u2', 'u3', 'u4', 'u5']);
});

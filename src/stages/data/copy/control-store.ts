/**
 * The task store's controls (state/store-controls.ts, written by `pgferry throttle --store`):
 * applied to the run's live Controls when attached, then polled about once a second — the
 * store's counterpart of control-file.ts.
 */
import type { Controls } from './controls.js';
import { readStoreControls } from '../../../state/store-controls.js';
import type { TaskStore } from '../../../state/store.js';

async function apply(store: TaskStore, id: string, controls: Controls): Promise<void> {
  const c = await readStoreControls(store, id).catch(() => undefined);
  if (!c) return;
  controls.set({ maxRowsPerSec: c.maxRowsPerSec, maxBytesPerSec: c.maxBytesPerSec, jobs: c.jobs, paused: c.paused });
}

/** Apply the store's controls of task `id` to `controls` now and every `intervalMs`; returns the detach function. */
export function attachControlStore(store: TaskStore, id: string, controls: Controls, intervalMs = 1000): () => void {
  let busy = false;
  const tick = () => {
    if (busy) return;
    busy = true;
    apply(store, id, controls).finally(() => {
      busy = false;
    });
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * control.json in a task's state directory (written by `pgferry throttle` or by hand), polled
 * about once a second while data is copied, and applied to the run's live Controls.
 */
import type { Controls } from '../copy/controls.js';
import { readControls, type StateDir } from './state.js';

/** Poll `state`'s control.json into `controls` every `intervalMs`; returns the detach function. */
export function attachControlFile(state: StateDir, controls: Controls, intervalMs = 1000): () => void {
  const timer = setInterval(() => {
    const c = readControls(state);
    if (!c) return;
    controls.set({
      maxRowsPerSec: c.maxRowsPerSec,
      maxBytesPerSec: c.maxBytesPerSec,
      jobs: c.jobs,
      paused: c.paused,
    });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * control.json in a task's state directory (written by `pgferry throttle` or by hand): applied to
 * the run's live Controls when attached (a file written while the task was not running applies
 * from the start), then polled about once a second while data is copied.
 */
import type { Controls } from './controls.js';
import { readControls, type StateDir } from '../../../state/state-dir.js';

function apply(state: StateDir, controls: Controls): void {
  const c = readControls(state);
  if (!c) return;
  controls.set({ maxRowsPerSec: c.maxRowsPerSec, maxBytesPerSec: c.maxBytesPerSec, jobs: c.jobs, paused: c.paused });
}

/** Apply `state`'s control.json to `controls` now and every `intervalMs`; returns the detach function. */
export function attachControlFile(state: StateDir, controls: Controls, intervalMs = 1000): () => void {
  apply(state, controls);
  const timer = setInterval(() => apply(state, controls), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Live copy limits (rows/s, bytes/s, jobs, pause) kept in the task store, in the task record's
 * `controls` info: what control.json is to a task in a state directory, for a task whose record
 * lives in a shared store (`--store`). `throttle` writes them, the running copy polls them.
 */
import type { Controls } from './state-dir.js';
import { noSuchTask, type TaskRecord, type TaskStore } from './store.js';

export function controlsOfRecord(r: TaskRecord): Controls | undefined {
  const c = r.info.controls;
  return c && typeof c === 'object' ? (c as Controls) : undefined;
}

export async function readStoreControls(store: TaskStore, id: string): Promise<Controls | undefined> {
  const r = await store.get(id);
  if (!r) throw noSuchTask(id);
  return controlsOfRecord(r);
}

/** Replace the task's controls (not through a lease: the run's own updates leave them alone). */
export async function writeStoreControls(store: TaskStore, id: string, c: Controls): Promise<void> {
  await store.update(id, { info: { controls: { ...c } } });
}

/**
 * A task runs once per process, decided before the first await of `migrate()`: two calls made
 * together in one process would otherwise race for the store's lease, and either could win. The
 * lease (task-record.ts) still keeps out runs of other processes and hosts.
 */
import { PgferryError } from '../core/errors.js';

const running = new Set<string>();
const storeIds = new WeakMap<object, number>();
let nextStoreId = 0;

/** A key for the task store: its state dir root, or the store object given to `migrate()`. */
function storeKey(store: object | string): string {
  if (typeof store === 'string') return `dir:${store}`;
  let id = storeIds.get(store);
  if (id === undefined) storeIds.set(store, (id = nextStoreId++));
  return `store:${id}`;
}

/** Claim the task in this process; returns the function that gives it up (once). */
export function claimInProcess(store: object | string, taskId: string): () => void {
  const key = `${storeKey(store)}\u0000${taskId}`;
  if (running.has(key)) {
    throw new PgferryError('state', `task "${taskId}" is already running in this process`, {
      hint: 'wait for that run to end, or stop it (it resumes later)',
    });
  }
  running.add(key);
  let held = true;
  return () => {
    if (held) running.delete(key);
    held = false;
  };
}

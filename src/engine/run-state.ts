/**
 * What a run holds while it lasts: its task record and lease in the task store (task-record.ts),
 * its state dir and its event log.
 */
import { toSafeUri, type ConnSpec } from '../pg/connstring.js';
import type { TaskConfig } from '../core/config.js';
import type { Redactor } from '../core/redact.js';
import { openEventLog } from '../state/eventlog.js';
import { FileTaskStore } from '../state/file-store.js';
import { StateDir } from '../state/state-dir.js';
import type { EventBus } from '../core/events.js';
import type { TaskStore } from '../state/store.js';
import { DEFAULT_LEASE_TTL_MS, openTaskRecord } from './task-record.js';

export interface Endpoints {
  task: TaskConfig;
  taskId: string;
  source: ConnSpec;
  target: ConnSpec;
}

/** The run's options openState reads (MigrateOptions' fields). */
interface StateOptions {
  events: EventBus;
  store?: TaskStore;
  leaseTtlMs?: number;
}

/**
 * The task's record and lease in the store, its state dir and event log; all released by `close`.
 * Two guards keep a task to one run: the store's lease (this store's runs, wherever they are) and the
 * target's advisory lock (tasklock.ts: runs that use other stores, e.g. another state dir or host).
 */
export async function openState({ task, taskId, source, target }: Endpoints, o: StateOptions, redactor: Redactor) {
  const root = StateDir.rootFor(task.stateDir);
  const store = o.store ?? new FileTaskStore(root);
  const info = { source: toSafeUri(source), target: toSafeUri(target), startedAt: new Date().toISOString() };
  const config = { ...task, source: info.source, target: info.target };
  const init = { store, taskId, events: o.events, redactor, config, info };
  const record = await openTaskRecord({ ...init, ttlMs: o.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS }).catch(async (e) => {
    if (!o.store) await store.close();
    throw e;
  });
  const state = new StateDir(root, taskId, redactor);
  const close = async () => {
    await record.close();
    if (!o.store) await store.close();
  };
  try {
    const eventLog = openEventLog(state, o.events, taskId);
    return {
      state,
      resumed: record.resumed,
      safeSource: info.source,
      writeTask: record.write,
      close,
      eventLog,
      lost: record.lost,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

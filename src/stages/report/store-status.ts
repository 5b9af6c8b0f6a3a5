/**
 * A task's status read from a shared task store (`status --store`): the record (status, phase,
 * endpoints, start, error, the run's last progress summary and live controls), the lease (who runs
 * it) and the committed checkpoints on the target. The event log stays on the host that ran the
 * task, so per-phase and per-event details are not part of it.
 */
import { controlsOfRecord } from '../../state/store-controls.js';
import type { TaskStore } from '../../state/store.js';
import { noSuchTask, unreachableNote } from '../../state/store.js';
import { readTaskCheckpoints } from './checkpoint-access.js';
import { type CopyProgress, copiedOf, limitsFrom, mergeTables, type TaskJson, type TaskStatus } from './status.js';

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

export async function readStoreStatus(
  store: TaskStore,
  id: string,
  opts: { target?: string; checkpoints?: boolean; where: string },
): Promise<TaskStatus> {
  const rec = await store.get(id);
  if (!rec) throw noSuchTask(id);
  const held = await store.currentLease(id);
  const info: TaskJson = { ...(rec.info as TaskJson), config: rec.config as TaskJson['config'] };
  const target = opts.target ?? str(rec.info.target);
  const cp =
    target !== null && opts.checkpoints !== false
      ? await readTaskCheckpoints(target, id, opts.target !== undefined, info.config?.stateSchema)
      : undefined;
  const checkpoint = cp?.totals ?? null;
  const tables = mergeTables([], checkpoint);
  const { at, ...progress } = (rec.info.progress ?? {}) as Partial<CopyProgress> & { at?: string };
  const out: TaskStatus = {
    task: id,
    dir: opts.where,
    running: held !== undefined,
    pid: null,
    ...(held ? { holder: held.holder } : {}),
    ...(held?.unreachable ? { holderNote: unreachableNote(held) } : {}),
    status: rec.status,
    phase: rec.phase,
    source: str(rec.info.source),
    target: str(rec.info.target) ?? target,
    startedAt: str(rec.info.startedAt),
    lastEventAt: at ?? null,
    lastPhase: null,
    tables,
    progress: at ? (progress as CopyProgress) : null,
    warnings: 0,
    retries: 0,
    error: str(rec.info.error),
    ended: null,
    checkpoint,
    ...(cp?.error ? { checkpointError: cp.error, checkpointConnectFailed: cp.connect === true } : {}),
    recopied: [],
    limits: limitsFrom(controlsOfRecord(rec), info, 'task store'),
    copied: copiedOf(tables, checkpoint),
  };
  if (out.status === 'running' && !out.running) out.status = 'interrupted';
  return out;
}

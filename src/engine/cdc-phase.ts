/**
 * The runner's calls into change capture (src/stages/cdc) for an incremental task: the slot
 * recorded before the copy (capture-first.ts created it), and the apply phase after post-data.
 */
import type { EventBus } from '../core/events.js';
import type { Selection } from '../core/selection.js';
import type { TaskConfig } from '../core/config.js';
import type { ConnSpec } from '../pg/connstring.js';
import { withRetry } from '../pg/retry.js';
import { type CaptureContext, type OpenedCapture, recordCapture, streamChanges } from '../stages/cdc/capture.js';
import type { CopyTable } from '../stages/data/plan/types.js';
import { listCopyTables } from '../stages/data/plan/tables.js';
import { listSequences } from '../stages/data/plan/sequences.js';
import type { MainSession } from './mainsession.js';

export interface CdcRun {
  task: TaskConfig;
  taskId: string;
  source: ConnSpec;
  target: ConnSpec;
  sel: Selection;
  src: MainSession;
  tgt: MainSession;
  o: { events: EventBus; signal?: AbortSignal };
}

const context = (r: CdcRun, tables: CopyTable[]): CaptureContext => ({
  source: r.source,
  target: r.target,
  taskId: r.taskId,
  tables,
  events: r.o.events,
  signal: r.o.signal,
});

/** Before the copy of an incremental task: its slot (created first, see capture-first.ts) recorded on the target. */
export async function recordCaptureStart(r: CdcRun, tables: CopyTable[], opened: OpenedCapture): Promise<void> {
  await r.tgt.run('record change capture', (c) => recordCapture(c, context(r, tables), opened));
}

/** After post-data: apply the source's changes until `finish` asks to stop. */
export async function cdcPhase(r: CdcRun, notCreated: string[]): Promise<void> {
  const listed = await r.src.run('list tables', (c) => listCopyTables(c, r.sel));
  const tables = listed.filter((t) => !notCreated.includes(t.key));
  const sequences = await r.src.run('list sequences', (c) => listSequences(c, r.sel));
  // A lost session is retried like the copy's: each attempt continues after the last committed source transaction.
  const retry = {
    what: 'apply changes',
    retryTimeSec: r.task.copy.retryTimeSec,
    events: r.o.events,
    signal: r.o.signal,
  };
  await r.o.events.phase('cdc', () => withRetry(retry, () => streamChanges(context(r, tables), sequences)));
}

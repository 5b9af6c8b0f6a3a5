/**
 * The runner's calls into change capture (src/stages/cdc) for an incremental task: the slot
 * recorded before the copy (capture-first.ts created it), and the apply phase after post-data.
 */
import type { EventBus } from '../core/events.js';
import { Selection } from '../core/selection.js';
import type { TaskConfig } from '../core/config.js';
import type { ConnSpec } from '../pg/connstring.js';
import { withRetry } from '../pg/retry.js';
import { type CaptureContext, type OpenedCapture, recordCapture, streamChanges } from '../stages/cdc/capture.js';
import { NewPartitionsSeen } from '../stages/cdc/new-partitions.js';
import type { CopyTable } from '../stages/data/plan/types.js';
import { listSequences } from '../stages/data/plan/sequences.js';
import type { SequencePair } from '../stages/cdc/sequences.js';
import type { MainSession } from './mainsession.js';
import { readPublishedTables } from './published-tables.js';

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

/** One apply: the published tables as the source has them now (a partition added since included). */
async function applyOnce(r: CdcRun, notCreated: string[], sequences: SequencePair[]): Promise<void> {
  // The whole selection: partitions this run left out of its copy (late-partitions.ts) are streamed.
  const published = await r.src.run('list tables', (c) => readPublishedTables(c, new Selection(r.task)));
  const tables = published.tables.filter((t) => !notCreated.includes(t.key));
  await streamChanges({ ...context(r, tables), partitions: published.watch }, sequences);
}

/** After post-data: apply the source's changes until `finish` asks to stop. */
export async function cdcPhase(r: CdcRun, notCreated: string[]): Promise<void> {
  const sequences = await r.src.run('list sequences', (c) => listSequences(c, r.sel));
  // A lost session is retried like the copy's: each attempt continues after the last committed source transaction.
  const retry = {
    what: 'apply changes',
    retryTimeSec: r.task.copy.retryTimeSec,
    events: r.o.events,
    signal: r.o.signal,
  };
  await r.o.events.phase('cdc', async () => {
    for (;;) {
      try {
        return await withRetry(retry, () => applyOnce(r, notCreated, sequences));
      } catch (e) {
        // A partition created on the source while streaming: the next apply publishes it, or stops saying why not.
        if (!(e instanceof NewPartitionsSeen)) throw e;
        r.o.events.info(e.message);
      }
    }
  });
}

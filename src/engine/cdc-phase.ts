/**
 * The runner's calls into change capture (src/stages/cdc) for an incremental task: the slot
 * snapshot the copy reads, and the apply phase after post-data.
 */
import type pg from 'pg';
import { PgferryError } from '../core/errors.js';
import type { EventBus } from '../core/events.js';
import { copiesLargeObjects, type Selection } from '../core/selection.js';
import type { TaskConfig } from '../core/config.js';
import type { ConnSpec } from '../pg/connstring.js';
import { withRetry } from '../pg/retry.js';
import { type CaptureContext, prepareCapture, streamChanges } from '../stages/cdc/capture.js';
import type { SlotSnapshot } from '../stages/cdc/slot-snapshot.js';
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

async function refuseLargeObjects(r: CdcRun, c: pg.Client): Promise<void> {
  if (!copiesLargeObjects(r.task)) return;
  const any = await c.query('SELECT 1 FROM pg_catalog.pg_largeobject_metadata LIMIT 1');
  if (!any.rowCount) return;
  throw new PgferryError(
    'usage',
    'large objects cannot be migrated incrementally: logical replication does not carry them',
    {
      hint: 'migrate without --incremental, or select schemas or tables (large objects then stay behind)',
    },
  );
}

/** Before the copy of an incremental task: the slot snapshot to copy in (undefined: copy already done). */
export async function captureSnapshot(r: CdcRun, tables: CopyTable[]): Promise<SlotSnapshot | undefined> {
  if (!r.task.incremental) return undefined;
  await r.src.run('look for large objects', (c) => refuseLargeObjects(r, c));
  return r.tgt.run('prepare change capture', (c) => prepareCapture(c, context(r, tables)));
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

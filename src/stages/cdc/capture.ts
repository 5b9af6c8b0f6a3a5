/**
 * Change capture for an incremental task, as the runner calls it:
 *  - before everything else of a run whose copy is still to do, `openCapture` creates the
 *    publication and the slot, whose exported snapshot is the run's one snapshot (catalog read,
 *    precheck, copy list, sequences, copy); `recordCapture` records it on the target;
 *  - after post-data, `streamChanges` applies the slot's changes until `finish` asks to stop,
 *    then sets the sequences from the source and leaves the slot for `finish` to drop.
 */
import type pg from 'pg';
import { isPgError, PgferryError } from '../../core/errors.js';
import type { EventBus } from '../../core/events.js';
import { connect, serverVersionNum, withClient } from '../../pg/connect.js';
import type { ConnSpec } from '../../pg/connstring.js';
import type { CopyTable } from '../data/plan/types.js';
import { type ApplyProgress, applyChanges } from './apply.js';
import { LagMeter } from './lag.js';
import {
  NewPartitionsSeen,
  noTargetPartition,
  type PartitionWatch,
  publishNewPartitions,
  unpublishedPartitions,
} from './new-partitions.js';
import {
  type CaptureRow,
  readCapture,
  recordLag,
  recordStartLsn,
  setCaptureState,
  startCapture,
} from './lsn-checkpoint.js';
import { createPublication, dropPublication, withoutReplicaIdentity } from './publication.js';
import { currentColumns, knownTables, uniqueBeyondKey, upsertKeys } from './relations.js';
import { resetCopy } from './reset.js';
import { type SequencePair, syncSequences } from './sequences.js';
import { dropSlot } from './slot.js';
import { SlotSnapshot } from './slot-snapshot.js';
import { ChangeStream } from './stream.js';

export interface CaptureContext {
  source: ConnSpec;
  target: ConnSpec;
  taskId: string;
  tables: CopyTable[];
  events: EventBus;
  signal?: AbortSignal;
  /** Partitioned roots whose partitions are published one by one: a partition created later is looked for. */
  partitions?: PartitionWatch;
}

const LAG_EVERY_MS = 2_000;
const PARTITIONS_EVERY_MS = 5_000;

/** The capture row of an earlier run, when the copy is still to do ('copy' or none); null when it is done. */
export async function captureToDo(tgt: pg.Client, taskId: string): Promise<{ row?: CaptureRow } | null> {
  const row = await readCapture(tgt, taskId);
  if (row && row.state !== 'copy') return null;
  return { row };
}

export interface OpenedCapture {
  names: { slot: string; publication: string };
  snapshot: SlotSnapshot;
  /** The publication did not exist before this run. */
  createdPublication: boolean;
}

/**
 * Before anything else of an incremental run whose copy is still to do: the publication (the
 * listed tables; recreated when `renew`), then the slot, whose exported snapshot the run reads
 * everything in. A slot of the same name left by an earlier run is dropped first: rows copied in
 * its snapshot are emptied before the new copy (recordCapture). Before the precheck, a table
 * whose updates the publication would make the source refuse (no replica identity) stops it.
 */
export async function openCapture(
  source: ConnSpec,
  names: { slot: string; publication: string },
  tables: CopyTable[],
  o: { renew: boolean; beforePrecheck: boolean },
): Promise<OpenedCapture> {
  const createdPublication = await withClient(source, { label: 'source', role: 'capture' }, async (src) => {
    // Before the precheck, the source's updates and deletes are not put at risk: the precheck explains.
    const unpublishable = o.beforePrecheck ? await withoutReplicaIdentity(src, tables) : [];
    if (unpublishable.length) {
      throw new PgferryError(
        'precheck',
        `${unpublishable.length} selected table(s) have no primary key and no replica identity: ${unpublishable.join(', ')}`,
        { hint: 'give each a primary key or REPLICA IDENTITY FULL on the source (see incremental.replica-identity)' },
      );
    }
    await dropSlot(src, names.slot);
    if (o.renew) await dropPublication(src, names.publication);
    return createPublication(src, names.publication, tables, await serverVersionNum(src));
  });
  const snapshot = new SlotSnapshot({ source, slot: names.slot });
  await snapshot.open(null);
  return { names, snapshot, createdPublication };
}

/** Drop what openCapture created (a run that stops before its copy): the slot, and the publication when it was new. */
export async function discardCapture(source: ConnSpec, opened: OpenedCapture): Promise<void> {
  opened.snapshot.close();
  await withClient(source, { label: 'source', role: 'capture' }, async (src) => {
    await dropSlot(src, opened.names.slot);
    if (opened.createdPublication) await dropPublication(src, opened.names.publication);
  });
}

/**
 * On the target, once the precheck passed and the checkpoints exist: the capture row in state
 * `copy` with the slot's consistent point. Rows an earlier run copied in its own (dropped) slot's
 * snapshot are emptied first: they cannot be joined to the new slot's stream.
 */
export async function recordCapture(tgt: pg.Client, x: CaptureContext, opened: OpenedCapture): Promise<void> {
  const row = await readCapture(tgt, x.taskId);
  if (row) {
    const emptied = await resetCopy(tgt, x.taskId, x.tables);
    if (emptied)
      x.events.warn(`incremental copy cut off earlier: ${emptied} unit(s) discarded, copying again in a new slot`);
  }
  await startCapture(tgt, x.taskId, opened.names.slot, opened.names.publication);
  await recordStartLsn(tgt, x.taskId, opened.snapshot.consistentPoint!);
}

/** Triggers and foreign keys fired on the source already: keep them quiet here when allowed (true). */
async function replicaRole(c: pg.Client, events: EventBus): Promise<boolean> {
  try {
    await c.query('SET session_replication_role = replica');
    return true;
  } catch (e) {
    if (!isPgError(e) || e.code !== '42501') throw e;
    events.warn(
      'the target account may not set session_replication_role: triggers and foreign-key checks fire on applied ' +
        'changes (grant it with GRANT SET ON PARAMETER session_replication_role TO <account> on PostgreSQL 15+, or ' +
        'apply as a superuser)',
    );
    return false;
  }
}

/** After post-data: apply changes until asked to stop; then sync sequences. */
export async function streamChanges(x: CaptureContext, sequences: SequencePair[]): Promise<ApplyProgress> {
  const tgt = await connect(x.target, { label: 'target', role: 'apply' });
  const src = await connect(x.source, { label: 'source', role: 'capture' }).catch(async (e) => {
    await tgt.end();
    throw e;
  });
  let stream: ChangeStream | undefined;
  let timer: NodeJS.Timeout | undefined;
  let watcher: NodeJS.Timeout | undefined;
  const stop = new AbortController();
  try {
    await setCaptureState(tgt, x.taskId, 'stream');
    const row = (await readCapture(tgt, x.taskId))!;
    const watch = x.partitions;
    if (watch) {
      const added = await publishNewPartitions(src, tgt, row.publication, watch);
      if (added.length) {
        const names = added.map((p) => `${p.table.schema}.${p.table.name}`).join(', ');
        x.events.info(`partition(s) created on the source after the start added to the publication: ${names}`);
        // Created after the caller listed the tables: their changes would find no plan. List again.
        const unknown = added.filter(
          (p) => !x.tables.some((t) => t.source.schema === p.table.schema && t.source.name === p.table.name),
        );
        if (unknown.length) throw new NewPartitionsSeen(unknown);
      }
      // A partition created while the stream runs stops it: the next attempt publishes it or says why not.
      let looking = false;
      watcher = setInterval(async () => {
        if (looking) return;
        looking = true;
        try {
          const found = await unpublishedPartitions(src, row.publication, watch);
          if (found.length) stop.abort(new NewPartitionsSeen(found));
        } catch {
          /* looked for again at the next tick, or the stream's own failure stops the apply */
        } finally {
          looking = false;
        }
      }, PARTITIONS_EVERY_MS);
    }
    const quiet = await replicaRole(tgt, x.events);
    const known = await knownTables(src, tgt, x.tables);
    const unique = await uniqueBeyondKey(tgt, x.tables);
    const upserts = await upsertKeys(tgt, x.tables);
    const applied = row.appliedLsn ?? row.startLsn ?? 0n;
    stream = await ChangeStream.start(x.source, row.slot, row.publication, applied);
    const meter = new LagMeter(row.slot);
    let progress: ApplyProgress = { applied, commitTime: row.appliedCommit, txns: 0, changes: 0 };
    let sampling = false;
    const sample = async () => {
      if (sampling) return;
      sampling = true;
      try {
        const lag = await meter.sample(src, progress);
        x.events.emit({ type: 'cdc-lag', ...lag });
        await withClient(x.target, { label: 'target', role: 'lag' }, (c) => recordLag(c, x.taskId, { ...lag }));
      } catch {
        /* lag is informative; the apply goes on */
      } finally {
        sampling = false;
      }
    };
    timer = setInterval(sample, LAG_EVERY_MS);
    const onCommit = (p: ApplyProgress) => {
      progress = p;
    };
    progress = await applyChanges({
      stream,
      target: tgt,
      taskId: x.taskId,
      known,
      applied,
      events: x.events,
      sourceColumns: (schema, name) => currentColumns(src, schema, name),
      compact: quiet,
      uniqueBeyondKey: unique,
      upsertKeys: upserts,
      signal: x.signal ? AbortSignal.any([x.signal, stop.signal]) : stop.signal,
      onCommit,
    }).catch(async (e) => {
      throw (await partitionMissing(src, tgt, x, e)) ?? e;
    });
    clearInterval(timer);
    clearInterval(watcher);
    await sample();
    const n = await syncSequences(src, tgt, sequences);
    await setCaptureState(tgt, x.taskId, 'stopped');
    x.events.info(`incremental apply stopped at the requested position; ${n} sequence(s) set from the source`);
    return progress;
  } finally {
    clearInterval(timer);
    clearInterval(watcher);
    stream?.close();
    await src.end().catch(() => {});
    await tgt.end().catch(() => {});
  }
}

/** A row routed on the target found no partition there: the error naming the table and the fix (undefined for other errors). */
async function partitionMissing(
  src: pg.Client,
  tgt: pg.Client,
  x: CaptureContext,
  e: unknown,
): Promise<PgferryError | undefined> {
  const m = isPgError(e) && e.code === '23514' ? /no partition of relation "(.*)" found for row/.exec(e.message) : null;
  if (!m) return undefined;
  const name = (e as { table?: string }).table ?? m[1];
  const schema = (e as { schema?: string }).schema;
  const root = x.tables.find((t) => t.target.name === name && (!schema || t.target.schema === schema));
  if (!root) return undefined;
  const target = x.partitions?.target ?? ((schema: string, name: string) => ({ schema, name }));
  return noTargetPartition(src, tgt, root, target, e as Error & { detail?: string }).catch(() => undefined);
}

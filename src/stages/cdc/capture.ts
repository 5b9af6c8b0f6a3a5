/**
 * Change capture for an incremental task, as the runner calls it:
 *  - before the copy, `prepareCapture` creates the publication and returns the slot-backed
 *    snapshot the copy reads (or nothing when an earlier run finished the copy);
 *  - after post-data, `streamChanges` applies the slot's changes until `finish` asks to stop,
 *    then sets the sequences from the source and leaves the slot for `finish` to drop.
 */
import type pg from 'pg';
import { isPgError } from '../../core/errors.js';
import type { EventBus } from '../../core/events.js';
import { connect, serverVersionNum, withClient } from '../../pg/connect.js';
import type { ConnSpec } from '../../pg/connstring.js';
import type { CopyTable } from '../data/plan/types.js';
import { type ApplyProgress, applyChanges } from './apply.js';
import { LagMeter } from './lag.js';
import { readCapture, recordLag, recordStartLsn, setCaptureState, startCapture } from './lsn-checkpoint.js';
import { captureNames } from './names.js';
import { createPublication } from './publication.js';
import { currentColumns, knownTables, uniqueBeyondKey } from './relations.js';
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
}

const LAG_EVERY_MS = 2_000;

/** Before the copy: the slot snapshot to copy in, or undefined when the copy is already done. */
export async function prepareCapture(tgt: pg.Client, x: CaptureContext): Promise<SlotSnapshot | undefined> {
  const row = await readCapture(tgt, x.taskId);
  if (row && row.state !== 'copy') return undefined;
  const { slot, publication } = row ?? captureNames(x.taskId);
  await withClient(x.source, { label: 'source', role: 'capture' }, async (src) => {
    if (row) {
      const emptied = await resetCopy(tgt, x.taskId, x.tables);
      if (emptied)
        x.events.warn(`incremental copy cut off earlier: ${emptied} unit(s) discarded, copying again in a new slot`);
      await dropSlot(src, slot);
    }
    await createPublication(src, publication, x.tables, await serverVersionNum(src));
  });
  await startCapture(tgt, x.taskId, slot, publication);
  return new SlotSnapshot({
    source: x.source,
    slot,
    onCreated: (lsn) => recordStartLsn(tgt, x.taskId, lsn),
  });
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
  try {
    await setCaptureState(tgt, x.taskId, 'stream');
    const row = (await readCapture(tgt, x.taskId))!;
    const quiet = await replicaRole(tgt, x.events);
    const known = await knownTables(src, tgt, x.tables);
    const unique = await uniqueBeyondKey(tgt, x.tables);
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
      signal: x.signal,
      onCommit,
    });
    clearInterval(timer);
    await sample();
    const n = await syncSequences(src, tgt, sequences);
    await setCaptureState(tgt, x.taskId, 'stopped');
    x.events.info(`incremental apply stopped at the requested position; ${n} sequence(s) set from the source`);
    return progress;
  } finally {
    clearInterval(timer);
    stream?.close();
    await src.end().catch(() => {});
    await tgt.end().catch(() => {});
  }
}

/**
 * The data engine: every selected table's rows, copied from one consistent source snapshot
 * by `jobs` parallel workers, with exact resume. This file wires the parts together:
 *
 *  - snapshot.ts: the exported snapshot every worker imports; renewed when lost. Units record
 *    its lineage (planstore.ts); lineage.ts empties and recopies (recopy.ts) a table whose done
 *    units came from a snapshot that is gone, one table at a time.
 *  - plan-runs.ts, queue.ts: tables split into ctid block-range units (src/stages/data/plan/units.ts),
 *    queued heaviest first; the pump starts at most `jobs` at a time.
 *  - unit-run.ts, worker.ts, pairs.ts: every unit is one target transaction, COPY rows +
 *    markUnitDone → COMMIT, relayed message by message (rawcopy.ts) with throttling; binary
 *    format per table where the column types allow it (format.ts). Reruns skip done units.
 *  - index-builder.ts, index-schedule.ts: a table's early statements (indexes, PK/UNIQUE) run
 *    on indexJobs sessions once its last unit lands, then ANALYZE.
 *  - progress.ts (rates, ETA), sequences.ts (setval from the snapshot), controls.ts (live rate
 *    limits, jobs and pause; src/stages/data/copy/control-file.ts feeds them from control.json).
 *  - Transient failures are retried (retry.ts).
 */
import { serverVersionNum } from '../../../pg/connect.js';
import { toSafeUri } from '../../../pg/connstring.js';
import { planBoundaries, tableSizes } from '../plan/units.js';
import { doneObjects, doneUnits, ensureCheckpoints } from '../../../state/checkpoint.js';
import { attachControlFile } from './control-file.js';
import { Controls } from './controls.js';
import { ControlSession } from './ctl-session.js';
import { textOnlyTables, type Format } from './format.js';
import { readSnapshotRecord, recordSnapshot, storeUnitPlans } from './planstore.js';
import { countTargets, groupEarly, planRuns } from './plan-runs.js';
import { abortError, withRetry } from '../../../pg/retry.js';
import { ExportedSnapshot, type SnapshotSource } from './snapshot.js';
import { newStage, type Stage } from './stage.js';
import { emitTextTables } from './text-tables.js';
import { copyTables, type Prepared } from './copy-tables.js';
import type { CopyOptions, CopyResult } from './types.js';

export type { CopyOptions, CopyResult, CopyTableResult } from './types.js';
export { buildOrder } from './index-schedule.js';

/** Controls from the options: rate limits of `copy`, `jobs`. */
export function controlsFrom(o: Pick<CopyOptions, 'copy' | 'jobs'>): Controls {
  return new Controls({ maxRowsPerSec: o.copy.maxRowsPerSec, maxBytesPerSec: o.copy.maxBytesPerSec, jobs: o.jobs });
}

export async function copyData(o: CopyOptions): Promise<CopyResult> {
  if (o.controls || !o.state) return runDataStage(o, o.controls ?? controlsFrom(o));
  const controls = controlsFrom(o);
  const detach = attachControlFile(o.state, controls);
  try {
    return await runDataStage(o, controls);
  } finally {
    detach();
  }
}

async function runDataStage(o: CopyOptions, controls: Controls): Promise<CopyResult> {
  if (o.signal?.aborted) throw abortError(o.signal);
  const st = newStage(o);
  const ctl = new ControlSession(st);
  // A lost snapshot is only reported when a unit is copied from its replacement (Lineages.note):
  // a side session (the sequence read) renewing it changes nothing already copied.
  const snapshot: SnapshotSource =
    o.snapshotSource ??
    new ExportedSnapshot(o.source, async (id) => {
      o.events.emit({ type: 'snapshot', snapshot: id, fresh: false });
      await ctl.run('record snapshot', (c) => recordSnapshot(c, o.taskId, { id, lineage: snapshot.lineage }));
    });
  try {
    const prepared = await prepare(st, ctl, snapshot);
    return await copyTables({ st, ctl, snapshot, controls, ...prepared });
  } finally {
    snapshot.close();
    await ctl.end();
  }
}

async function prepare(st: Stage, ctl: ControlSession, snapshot: SnapshotSource): Promise<Prepared> {
  const { o } = st;
  const boot = await ctl.run('read checkpoints', async (c) => {
    await ensureCheckpoints(c, o.taskId, toSafeUri(o.source));
    return {
      previousSnapshot: await readSnapshotRecord(c, o.taskId),
      done: await doneUnits(c, o.taskId),
      doneObj: await doneObjects(c, o.taskId),
      targetVersion: await serverVersionNum(c),
    };
  });
  const opened = await withRetry({ ...st.retryBase, what: 'export source snapshot' }, () =>
    snapshot.open(boot.previousSnapshot),
  );
  await ctl.run('record snapshot', (c) => recordSnapshot(c, o.taskId, { id: snapshot.id, lineage: snapshot.lineage }));
  const sourceVersion = await serverVersionNum(snapshot.session!);
  const format = runFormat(o.copy.format, sourceVersion, boot.targetVersion);
  const textOnly = await textOnlyTables(snapshot.session!, o.tables, boot.targetVersion);
  const early = groupEarly(o.early, o.tables, boot.doneObj);
  const plan = planRuns({
    tables: o.tables,
    ...(await planUnits(st, ctl, snapshot, sourceVersion)),
    done: boot.done,
    format,
    textOnly,
    targetCount: countTargets(o.tables),
    earlyByTable: early.byTable,
    noFreeze: o.noFreeze ?? false,
  });
  // A new snapshot matters only if rows are still to be copied from it.
  const resumedFresh = opened === 'new' && boot.done.size > 0 && plan.pending.length > 0;
  o.events.emit({ type: 'snapshot', snapshot: snapshot.id, fresh: resumedFresh });
  emitTextTables(o.events, o.tables, textOnly, format, o.copy.format);
  return { plan, format, early, doneObj: boot.doneObj, targetCount: countTargets(o.tables) };
}

/** Binary between equal majors (or when asked), text otherwise. */
export function runFormat(asked: CopyOptions['copy']['format'], sourceVersion: number, targetVersion: number): Format {
  if (asked === 'binary' || asked === 'text') return asked;
  return Math.floor(sourceVersion / 10000) === Math.floor(targetVersion / 10000) ? 'binary' : 'text';
}

/** Unit boundaries per table: sizes read inside the snapshot, plans stored once and reused on resume. */
async function planUnits(
  st: Stage,
  ctl: ControlSession,
  snapshot: SnapshotSource,
  sourceVersion: number,
): Promise<Pick<Parameters<typeof planRuns>[0], 'sizes' | 'boundaries'>> {
  const { o } = st;
  const sizes = await tableSizes(snapshot.session!, o.tables);
  const proposed = new Map<string, number[]>();
  const heapBytes = [...sizes.values()].reduce((a, s) => a + s.bytes, 0);
  for (const t of o.tables) {
    const s = sizes.get(t.key);
    proposed.set(t.key, s ? planBoundaries(s, { ...o.copy, sourceVersion, jobs: o.jobs, totalBytes: heapBytes }) : [0]);
  }
  const stored = await ctl.run('store unit plans', (c) => storeUnitPlans(c, o.taskId, proposed));
  const boundaries = new Map(o.tables.map((t) => [t.key, stored.get(t.key) ?? proposed.get(t.key)!]));
  return { sizes, boundaries };
}

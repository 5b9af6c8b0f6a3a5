/**
 * The copy itself, once the snapshot is open and the units planned: the pump runs units on
 * session pairs, index sessions follow the tables that complete, progress ticks, controls
 * apply live; then the sequences, and the result.
 */
import type { Statement } from '../../../core/statement.js';
import { PgferryError, errorMessage } from '../../../core/errors.js';
import type { EventBus } from '../../../core/events.js';
import type { Controls } from './controls.js';
import type { ControlSession } from './ctl-session.js';
import type { Format } from './format.js';
import { IndexBuilder } from './index-builder.js';
import { Lineages, reportSnapshots } from './lineage.js';
import { PairPool } from './pairs.js';
import type { RunPlan } from './plan-runs.js';
import { Progress } from './progress.js';
import { UnitPump, UnitQueue } from './queue.js';
import { abortError, withRetry } from '../../../pg/retry.js';
import { readSequences, setSequences } from './sequences.js';
import type { SnapshotSource } from '../snapshot-source.js';
import type { Stage } from './stage.js';
import { Throttle } from './throttle.js';
import type { CopyResult } from './types.js';
import { runUnit, type UnitRunDeps } from './unit-run.js';
import { localUnits } from './unit-runner.js';
import { distributedUnits } from '../distributed/runner.js';

export interface Prepared {
  plan: RunPlan;
  format: Format;
  early: { byTable: Map<string, Statement[]>; orphans: Statement[] };
  doneObj: Set<string>;
  targetCount: Map<string, number>;
}

export interface CopyInput extends Prepared {
  st: Stage;
  ctl: ControlSession;
  snapshot: SnapshotSource;
  controls: Controls;
}

interface Wired extends UnitRunDeps {
  pump: UnitPump;
}

function wire(i: CopyInput): Wired {
  const { st, snapshot, controls, plan } = i;
  const { o } = st;
  const runs = [...plan.runs.values()];
  const progress = new Progress(
    runs.reduce((a, r) => a + (r.size?.estRows ?? 0), 0),
    runs.reduce((a, r) => a + (r.size?.bytes ?? 0), 0),
  );
  for (const r of runs) progress.add(r.rows, r.bytes);
  const queue = new UnitQueue(plan.pending);
  const pairs = new PairPool(o.source, o.target, snapshot);
  const throttle = new Throttle(controls.values.maxRowsPerSec, controls.values.maxBytesPerSec);
  const indexes = new IndexBuilder(st, i.early.byTable, i.doneObj);
  const pump = new UnitPump({
    queue,
    controls,
    runUnit: (u) => runUnit(d, u),
    failed: () => st.failure.failed,
    fail: (e) => st.failure.set(e),
    afterRound: () => {
      pairs.trim(controls.jobs);
      // the copy done: its slots build indexes for the rest of the run (not while units still run, whose
      // last tables are on the run's critical path: on mixed scale 5 at load 15-17 that cost 4 s)
      if (queue.length === 0 && pump.running === 0 && !st.failure.failed) indexes.lend(controls.jobs);
    },
  });
  st.failure.onFail(pump.wake);
  const lineages = new Lineages({
    taskId: o.taskId,
    events: o.events,
    snapshot,
    pairs,
    queue,
    progress,
    targetCount: i.targetCount,
    wake: pump.wake,
  });
  for (const l of plan.usedLineages) lineages.used.add(l);
  const worker = { taskId: o.taskId, throttle, signal: o.signal };
  const d: Wired = { st, worker, runs: plan.runs, pairs, lineages, progress, controls, indexes, pump };
  return d;
}

/** Apply control changes to the throttle and the pump; returns the detach function. */
function followControls(
  events: EventBus,
  controls: Controls,
  throttle: Throttle,
  wake: () => void,
  jobs: number,
): () => void {
  const v = controls.values;
  // Limits in force, or controls changed before the copy started (control.json of a stopped task).
  if (throttle.active || v.jobs !== Math.max(1, jobs)) {
    events.emit({ type: 'throttle', maxRowsPerSec: v.maxRowsPerSec, maxBytesPerSec: v.maxBytesPerSec, jobs: v.jobs });
  }
  if (v.paused) events.info('data copy paused: no unit starts until the controls resume it');
  let paused = v.paused;
  return controls.onChange((c) => {
    throttle.set(c.maxRowsPerSec, c.maxBytesPerSec);
    events.emit({ type: 'throttle', maxRowsPerSec: c.maxRowsPerSec, maxBytesPerSec: c.maxBytesPerSec, jobs: c.jobs });
    if (c.paused !== paused) {
      paused = c.paused;
      events.info(paused ? 'data copy paused: units running finish, no new unit starts' : 'data copy resumed');
    }
    wake();
  });
}

export async function copyTables(i: CopyInput): Promise<CopyResult> {
  const d = wire(i);
  const { st } = i;
  const { o } = st;
  const unfollow = followControls(o.events, i.controls, d.worker.throttle, d.pump.wake, o.jobs);
  const tick = () => o.events.emit(d.progress.event(Date.now()));
  const timer = setInterval(tick, 500);
  timer.unref();
  const onAbort = () => {
    d.pairs.dropBusy();
    st.failure.set(abortError(o.signal!));
  };
  o.signal?.addEventListener('abort', onAbort, { once: true });
  // Tables whose data is already complete (earlier run) but whose indexes are not.
  for (const r of d.runs.values()) {
    if (r.left === 0 && (i.early.byTable.get(r.table.key)?.length ?? 0) > 0) d.indexes.enqueue(r);
  }
  // foreign keys between copied tables as soon as both are complete (workers' runs leave them to post-data)
  if (!o.distributed) d.indexes.late.add(o.foreignKeys ?? [], d.runs, i.targetCount);
  d.indexes.start(o.indexJobs);
  try {
    const units = o.distributed ? distributedUnits(o.distributed, i, d) : localUnits(d.pump);
    await units.run();
    d.pairs.closeIdle();
    // Statements whose table is not among the copied tables run once all data is in.
    await d.indexes.finish(i.early.orphans);
    if (st.failure.failed) throw st.failure.error;
    const sequences = await copySequences(i);
    tick();
    const snapshotFresh = reportSnapshots(o.events, [...d.runs.values()], d.lineages.latest);
    return result(i, d, sequences, snapshotFresh);
  } catch (e) {
    st.failure.set(e);
    await d.indexes.settle();
    throw stageError(e);
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    clearInterval(timer);
    unfollow();
    d.pairs.dropAll();
  }
}

/** Sequences: values read in the snapshot (or its replacement), set on the target. */
async function copySequences(i: CopyInput): Promise<number> {
  const { st, snapshot } = i;
  if (i.st.o.sequences.length === 0) return 0;
  const renew = () => snapshot.renew(snapshot.id);
  const values = await withRetry({ ...st.retryBase, what: 'read sequences', onRetry: renew }, () =>
    readSequences(snapshot, st.o.sequences),
  );
  await i.ctl.run('set sequences', (c) => setSequences(c, values));
  return values.length;
}

function result(i: CopyInput, d: Wired, sequences: number, snapshotFresh: boolean): CopyResult {
  return {
    tables: i.st.o.tables.map((t) => {
      const r = d.runs.get(t.key)!;
      return {
        key: t.key,
        rows: r.rows,
        bytes: r.bytes,
        durationMs: r.durationMs,
        units: r.units.length,
        skippedUnits: r.skipped,
        format: r.format,
        recopied: r.recopied,
      };
    }),
    snapshotFresh,
    lateDone: [...d.indexes.late.done],
    retries: i.st.retryBase.counter.retries,
    sequences,
    format: i.format,
    snapshot: i.snapshot.id,
  };
}

/** Wrap an unexpected failure of the stage; interrupts and pgferry's own errors pass as they are. */
export function stageError(e: unknown): unknown {
  if (e instanceof PgferryError || (e instanceof Error && e.name === 'AbortError')) return e;
  return new PgferryError('data', `data copy failed: ${errorMessage(e)}`, { cause: e });
}

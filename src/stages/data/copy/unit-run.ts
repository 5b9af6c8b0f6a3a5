/**
 * Running one unit for the pump: a pair of sessions, the lineage claim, retries of transient
 * failures and of a lost snapshot, and the table's start/done events and totals.
 */
import type { CopyUnit } from '../plan/units.js';
import type { Controls } from './controls.js';
import type { IndexBuilder } from './index-builder.js';
import type { Lineages } from './lineage.js';
import { drop, type Pair, type PairPool } from './pairs.js';
import type { Progress } from './progress.js';
import { withRetry } from '../../../pg/retry.js';
import { isLostSnapshot } from './sessions.js';
import type { Stage } from './stage.js';
import type { TableRun } from './types.js';
import { copyUnitRows, type Copied, type WorkerContext } from './worker.js';

export interface UnitRunDeps {
  st: Stage;
  worker: WorkerContext;
  runs: Map<string, TableRun>;
  pairs: PairPool;
  lineages: Lineages;
  progress: Progress;
  controls: Controls;
  indexes: IndexBuilder;
}

export async function runUnit(d: UnitRunDeps, u: CopyUnit): Promise<void> {
  const { events } = d.st.o;
  const run = d.runs.get(u.table.key)!;
  if (run.started === undefined) {
    run.started = Date.now();
    d.progress.active.add(run);
    events.emit({
      type: 'table-start',
      table: run.table.key,
      units: run.units.length,
      estRows: run.size?.estRows ?? 0,
      estBytes: run.size?.bytes ?? 0,
    });
  }
  const p = d.pairs.take();
  const t0 = Date.now();
  let res: Copied;
  try {
    const retry = { ...d.st.retryBase, what: `copy ${u.id}`, alsoRetry: isLostSnapshot, onRetry: () => drop(p) };
    res = await withRetry(retry, () => attempt(d, p, u, run));
  } catch (e) {
    d.pairs.discard(p);
    throw e;
  }
  d.pairs.release(p, d.controls.jobs);
  unitDone(d, u, run, res, Date.now() - t0);
}

async function attempt(d: UnitRunDeps, p: Pair, u: CopyUnit, run: TableRun): Promise<Copied> {
  try {
    const src = await d.lineages.claim(p, run);
    try {
      return await copyUnitRows(d.worker, src, await d.pairs.targetOf(p), u, run);
    } finally {
      d.lineages.ended(run);
    }
  } catch (e) {
    drop(p);
    throw e;
  }
}

function unitDone(d: UnitRunDeps, u: CopyUnit, run: TableRun, res: Copied, durationMs: number): void {
  const { events } = d.st.o;
  run.rows += res.rows;
  run.bytes += res.bytes;
  run.copiedThisRun = true;
  d.progress.add(res.rows, res.bytes);
  events.emit({ type: 'unit-done', table: run.table.key, unit: u.id, rows: res.rows, bytes: res.bytes, durationMs });
  if (--run.left > 0) return;
  run.durationMs = Date.now() - run.started!;
  d.progress.active.delete(run);
  events.emit({
    type: 'table-done',
    table: run.table.key,
    rows: run.rows,
    bytes: run.bytes,
    durationMs: run.durationMs,
    skippedUnits: run.skipped,
  });
  d.indexes.enqueue(run);
}

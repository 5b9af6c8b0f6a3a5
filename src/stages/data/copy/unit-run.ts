/**
 * Running one unit for the pump — or a batch of small tables' units in one target transaction —
 * on a pair of sessions: the lineage claim, retries of transient failures and of a lost
 * snapshot, and each table's start/done events and totals.
 */
import type pg from 'pg';
import { unitsOf, type CopyUnit } from '../plan/units.js';
import type { Controls } from './controls.js';
import type { IndexBuilder } from './index-builder.js';
import type { Lineages } from './lineage.js';
import { drop, type Pair, type PairPool } from './pairs.js';
import type { Progress } from './progress.js';
import { withRetry } from '../../../pg/retry.js';
import { isLostSnapshot } from './sessions.js';
import type { Stage } from './stage.js';
import type { TableRun } from './types.js';
import { copyUnitsRows, type Copied, type WorkerContext } from './worker.js';

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

type Member = [CopyUnit, TableRun];

/** Run a queued unit: one table's unit, or a batch of small tables (src/stages/data/plan/units.ts) together. */
export async function runUnit(d: UnitRunDeps, u: CopyUnit): Promise<void> {
  const members: Member[] = unitsOf(u).map((m) => [m, d.runs.get(m.table.key)!]);
  for (const [, run] of members) tableStart(d, run);
  const p = d.pairs.take();
  const t0 = Date.now();
  let res: Copied[];
  try {
    const retry = { ...d.st.retryBase, what: `copy ${u.id}`, alsoRetry: isLostSnapshot, onRetry: () => drop(p) };
    res = await withRetry(retry, () => attempt(d, p, members));
  } catch (e) {
    d.pairs.discard(p);
    throw e;
  }
  d.pairs.release(p, d.controls.jobs);
  members.forEach(([m, run], i) => unitDone(d, m, run, res[i], Date.now() - t0));
}

export function tableStart(d: UnitRunDeps, run: TableRun): void {
  if (run.started !== undefined) return;
  run.started = Date.now();
  d.progress.active.add(run);
  d.st.o.events.emit({
    type: 'table-start',
    table: run.table.key,
    units: run.units.length,
    estRows: run.size?.estRows ?? 0,
    estBytes: run.size?.bytes ?? 0,
  });
}

async function attempt(d: UnitRunDeps, p: Pair, members: Member[]): Promise<Copied[]> {
  try {
    const { src, claimed } = await claimAll(d, p, members);
    try {
      return await copyUnitsRows(d.worker, src, await d.pairs.targetOf(p), members);
    } finally {
      for (const run of claimed) d.lineages.ended(run);
    }
  } catch (e) {
    drop(p);
    throw e;
  }
}

/**
 * Every member's table claimed for the snapshot of one source session. Should the snapshot be
 * renewed between two claims, the claims are given back (a table without rows copied forgets
 * the lineage it just took) and made again in the new one.
 */
async function claimAll(d: UnitRunDeps, p: Pair, members: Member[]) {
  for (;;) {
    const before = members.map(([, run]) => run.lineage);
    const claimed: TableRun[] = [];
    let src: pg.Client | undefined;
    let same = true;
    for (const [, run] of members) {
      const s = await d.lineages.claim(p, run);
      claimed.push(run);
      same &&= src === undefined || s === src;
      src = s;
    }
    if (same) return { src: src!, claimed };
    claimed.forEach((run, i) => {
      d.lineages.ended(run);
      if (before[i] === undefined && run.doneIds.size === 0) run.lineage = undefined;
    });
  }
}

export function unitDone(d: UnitRunDeps, u: CopyUnit, run: TableRun, res: Copied, durationMs: number): void {
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

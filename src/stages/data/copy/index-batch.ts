/**
 * Small tables' index builds together: the early statements and ANALYZE of many small tables
 * (src/stages/data/plan/units.ts SMALL_BATCH) in one target transaction with all their checkpoint
 * rows — a few round trips for the lot instead of a transaction per index and per ANALYZE.
 */
import type pg from 'pg';
import { SMALL_BATCH } from '../plan/units.js';
import { analyzeStep, buildGroup, type IndexStep, statementStep } from './index-group.js';
import type { IndexTable, WholeTable } from './index-schedule.js';
import type { TableRun } from './types.js';

/** Tables taken whole per transaction. */
export const INDEX_BATCH_TABLES = 50;

/** A small copied table whose statements may all run in one transaction. */
export function smallWhole(t: IndexTable<TableRun>): boolean {
  if (!t.run || (t.run.size?.bytes ?? 0) > SMALL_BATCH.tableBytes) return false;
  return t.pending.every((st) => st.transactional !== false);
}

/** A table's steps: its statements, then its ANALYZE, in its build order. */
function stepsOf(w: WholeTable<TableRun>): IndexStep[] {
  const steps = w.stmts.map(statementStep);
  return w.analyze ? [...steps, analyzeStep(w.t.key, w.t.run!.table.target)] : steps;
}

/**
 * Runs the group in one transaction and commits it with its checkpoint rows (index-group.ts). On
 * failure the transaction is rolled back (nothing of the group stays) and the error thrown.
 */
export async function buildTogether(c: pg.Client, taskId: string, group: WholeTable<TableRun>[]): Promise<void> {
  await buildGroup(c, taskId, group.flatMap(stepsOf));
}

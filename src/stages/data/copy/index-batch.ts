/**
 * Small tables' index builds together: the early statements and ANALYZE of many small tables
 * (src/stages/data/plan/units.ts SMALL_BATCH) in one target transaction with all their checkpoint
 * rows — a few round trips for the lot instead of a transaction per index and per ANALYZE.
 */
import type pg from 'pg';
import { qualify } from '../../../core/ident.js';
import { terminated } from '../../../core/statement.js';
import { markObjectsDone } from '../../../state/checkpoint.js';
import { analyzeKey } from '../../../state/keys.js';
import { SMALL_BATCH } from '../plan/units.js';
import type { IndexTable, WholeTable } from './index-schedule.js';
import type { TableRun } from './types.js';

/** Tables taken whole per transaction. */
export const INDEX_BATCH_TABLES = 50;

/** A small copied table whose statements may all run in one transaction. */
export function smallWhole(t: IndexTable<TableRun>): boolean {
  if (!t.run || (t.run.size?.bytes ?? 0) > SMALL_BATCH.tableBytes) return false;
  return t.pending.every((st) => st.transactional !== false);
}

/** Checkpoint rows of a group: each statement, and each table's ANALYZE. */
function checkpoints(group: WholeTable<TableRun>[]): { key: string; kind: string; section: string }[] {
  const out: { key: string; kind: string; section: string }[] = [];
  for (const w of group) {
    for (const st of w.stmts) out.push({ key: st.key, kind: st.kind, section: st.section });
    if (w.analyze) out.push({ key: analyzeKey(w.t.key), kind: 'analyze', section: 'early' });
  }
  return out;
}

/** The group's statements and ANALYZEs as one script, in each table's build order. */
function script(group: WholeTable<TableRun>[]): string {
  const parts: string[] = [];
  for (const w of group) {
    for (const st of w.stmts) parts.push(terminated(st.sql));
    const t = w.t.run!.table;
    if (w.analyze) parts.push(`ANALYZE ${qualify(t.target.schema, t.target.name)};`);
  }
  return parts.join('\n');
}

/**
 * Runs the group in one transaction and commits it with its checkpoint rows. On failure the
 * transaction is rolled back (nothing of the group stays) and the error thrown.
 */
export async function buildTogether(c: pg.Client, taskId: string, group: WholeTable<TableRun>[]): Promise<void> {
  try {
    await c.query(`BEGIN;\n${script(group)}`);
    await markObjectsDone(c, taskId, checkpoints(group));
    await c.query('COMMIT');
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  }
}

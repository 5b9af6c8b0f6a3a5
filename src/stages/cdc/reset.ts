/**
 * An incremental copy cut off before it finished: its slot snapshot is gone with the process
 * that held it, and rows copied in it cannot be joined to a new slot's stream. Empty the copied
 * tables and forget their units, drop the old slot, and copy again in a new slot snapshot.
 */
import type pg from 'pg';
import { qualify } from '../../core/ident.js';
import { stateTable } from '../../state/checkpoint.js';
import type { CopyTable } from '../data/plan/types.js';

export async function resetCopy(tgt: pg.Client, taskId: string, tables: CopyTable[]): Promise<number> {
  const done = await tgt.query<{ n: string }>(
    `SELECT count(*)::text AS n FROM ${stateTable(taskId, 'unit')} WHERE task_id = $1`,
    [taskId],
  );
  if (done.rows[0].n === '0') return 0;
  const targets = [...new Set(tables.map((t) => qualify(t.target.schema, t.target.name)))];
  await tgt.query('BEGIN');
  try {
    if (targets.length) await tgt.query(`TRUNCATE ONLY ${targets.join(', ')}`);
    await tgt.query(`DELETE FROM ${stateTable(taskId, 'unit')} WHERE task_id = $1`, [taskId]);
    await tgt.query(`DELETE FROM ${stateTable(taskId, 'unit_plan')} WHERE task_id = $1`, [taskId]);
    await tgt.query(`UPDATE ${stateTable(taskId, 'task')} SET snapshot = NULL WHERE task_id = $1`, [taskId]);
    await tgt.query('COMMIT');
  } catch (e) {
    await tgt.query('ROLLBACK').catch(() => {});
    throw e;
  }
  return Number(done.rows[0].n);
}

/**
 * Recopying a table whose copied units came from another snapshot than the one in use.
 * ctid ranges mean nothing across snapshots (updates, deletes and VACUUM move rows between
 * blocks), so a half-copied table cannot be finished from a new snapshot: its target rows and
 * its unit checkpoints go together, in one transaction, and every unit is copied again.
 */
import type pg from 'pg';
import { isPgError } from '../../../core/errors.js';
import type { CopyTable } from '../plan/types.js';
import { stateTable } from '../../../state/checkpoint.js';
import { qualify } from '../../../core/ident.js';
import { isTransient } from '../../../pg/retry.js';

/**
 * Empty the table's target rows and remove its unit checkpoints, atomically. TRUNCATE ONLY
 * when allowed; DELETE FROM ONLY when it is not (a foreign key from another table references it).
 */
export async function resetTableTarget(c: pg.Client, taskId: string, table: CopyTable): Promise<'truncate' | 'delete'> {
  const name = qualify(table.target.schema, table.target.name);
  await c.query('BEGIN');
  try {
    let how: 'truncate' | 'delete' = 'truncate';
    await c.query('SAVEPOINT pgferry_reset');
    try {
      await c.query(`TRUNCATE ONLY ${name}`);
    } catch (e) {
      if (!isPgError(e) || isTransient(e)) throw e;
      await c.query('ROLLBACK TO SAVEPOINT pgferry_reset');
      await c.query(`DELETE FROM ONLY ${name}`);
      how = 'delete';
    }
    const units = stateTable(taskId, 'unit');
    await c.query(`DELETE FROM ${units} WHERE task_id = $1 AND table_name = $2`, [taskId, table.key]);
    await c.query('COMMIT');
    return how;
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  }
}

/** The lineage a table's done units share; a marker that matches no snapshot when they differ. */
export function doneLineage(lineages: (string | null)[]): string | undefined {
  if (lineages.length === 0) return undefined;
  const set = new Set(lineages.map((l) => l ?? ''));
  return set.size === 1 ? [...set][0] : `mixed:${[...set].sort().join(',')}`;
}

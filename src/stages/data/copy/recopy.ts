/**
 * Recopying a table whose copied units came from another snapshot than the one in use.
 * ctid ranges mean nothing across snapshots (updates, deletes and VACUUM move rows between
 * blocks), so a half-copied table cannot be finished from a new snapshot: its target rows and
 * its unit checkpoints go together, in one transaction, and every unit is copied again.
 */
import type pg from 'pg';
import { isPgError, PgferryError } from '../../../core/errors.js';
import type { EventBus } from '../../../core/events.js';
import type { CopyTable } from '../plan/types.js';
import type { CopyUnit } from '../plan/units.js';
import type { Progress } from './progress.js';
import type { TableRun } from './types.js';
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

export interface RecopyDeps {
  taskId: string;
  events: EventBus;
  progress: Progress;
  /** How many copied tables write into each target table (qualified name). */
  targetCount: Map<string, number>;
}

/**
 * Recopy `run`'s table whole: refused when its target also receives other tables' rows (emptying
 * it would lose theirs); else `reset` empties it with its checkpoints (resetTableTarget, on the
 * caller's session), the run says so, and the table's progress starts over. Returns its units done
 * before, to copy again; the caller sets the table's lineage and queues them.
 */
export async function recopyWhole(
  d: RecopyDeps,
  run: TableRun,
  reset: () => Promise<'truncate' | 'delete'>,
): Promise<CopyUnit[]> {
  const t = run.table;
  const name = qualify(t.target.schema, t.target.name);
  if (d.targetCount.get(name) !== 1) {
    throw new PgferryError(
      'data',
      `table ${t.key}: its copied units come from a snapshot that is gone, and its ` +
        `target ${name} also receives rows of other tables, so it cannot be emptied and recopied`,
      {
        hint: `empty the target table, delete its rows from ${stateTable(d.taskId, 'unit')} on the target, and rerun`,
      },
    );
  }
  const how = await reset();
  const redo = run.units.filter((u) => run.doneIds.has(u.id));
  const units = run.units.length;
  d.events.emit({ type: 'table-recopy', table: t.key, units, discardedUnits: redo.length, rows: run.rows });
  d.events.warn(
    `table ${t.key} is recopied whole (${how === 'truncate' ? 'truncated' : 'emptied'}): ` +
      `${redo.length} of its ${units} units came from an earlier snapshot, and ctid ranges do not carry over`,
  );
  d.progress.add(-run.rows, -run.bytes);
  run.rows = run.bytes = run.skipped = 0;
  run.doneIds.clear();
  run.left += redo.length;
  run.recopied = true;
  return redo;
}

/** The lineage a table's done units share; a marker that matches no snapshot when they differ. */
export function doneLineage(lineages: (string | null)[]): string | undefined {
  if (lineages.length === 0) return undefined;
  const set = new Set(lineages.map((l) => l ?? ''));
  return set.size === 1 ? [...set][0] : `mixed:${[...set].sort().join(',')}`;
}

/**
 * Stored unit plans: the block boundaries of every table's copy units, kept in the target's
 * checkpoint schema (unit_plan, next to unit) the first time a table is
 * planned. Resumes read them back so unit ids and ranges never change under done units.
 */
import type pg from 'pg';
import { STATE_XACT_LOCK, stateTable } from '../../../state/checkpoint.js';

/**
 * Store plans for tables that have none yet and return the effective plan of every table
 * (stored ones win). Needs the checkpoint schema (ensureCheckpoints), whose migrations create unit_plan.
 */
export async function storeUnitPlans(
  c: pg.Client,
  taskId: string,
  plans: Map<string, number[]>,
): Promise<Map<string, number[]>> {
  await c.query('BEGIN');
  try {
    const table = stateTable(taskId, 'unit_plan');
    await c.query(STATE_XACT_LOCK);
    const keys = [...plans.keys()];
    if (keys.length) {
      await c.query(
        `INSERT INTO ${table} (task_id, table_name, boundaries)
         SELECT $1, k, ARRAY(SELECT jsonb_array_elements_text(b)::int8)
           FROM unnest($2::text[], $3::jsonb[]) AS p(k, b)
         ON CONFLICT (task_id, table_name) DO NOTHING`,
        [taskId, keys, keys.map((k) => JSON.stringify(plans.get(k)))],
      );
    }
    const r = await c.query<{ table_name: string; boundaries: string[] }>(
      `SELECT table_name, boundaries::text[] AS boundaries FROM ${table}
        WHERE task_id = $1 AND table_name = ANY ($2::text[])`,
      [taskId, keys],
    );
    await c.query('COMMIT');
    return new Map(r.rows.map((row) => [row.table_name, row.boundaries.map(Number)]));
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  }
}

/**
 * The snapshot a task's units are copied in. `id` is the exported snapshot workers import;
 * `lineage` names the point in time: a re-export of an imported snapshot gets a new id but
 * keeps the lineage, and units record the lineage, so units of one point in time match.
 */
export interface SnapshotRecord {
  id: string | null;
  lineage: string | null;
}

export async function readSnapshotRecord(c: pg.Client, taskId: string): Promise<SnapshotRecord> {
  const r = await c.query<{ snapshot: string | null; lineage: string | null }>(
    `SELECT snapshot, info ->> 'snapshotLineage' AS lineage FROM ${stateTable(taskId, 'task')} WHERE task_id = $1`,
    [taskId],
  );
  return { id: r.rows[0]?.snapshot ?? null, lineage: r.rows[0]?.lineage ?? r.rows[0]?.snapshot ?? null };
}

export async function recordSnapshot(c: pg.Client, taskId: string, s: { id: string; lineage: string }): Promise<void> {
  await c.query(
    `UPDATE ${stateTable(taskId, 'task')}
        SET snapshot = $2, info = info || jsonb_build_object('snapshotLineage', $3::text), updated_at = now()
      WHERE task_id = $1`,
    [taskId, s.id, s.lineage],
  );
}

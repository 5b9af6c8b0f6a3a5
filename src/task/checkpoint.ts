/**
 * Exact checkpoints on the target. A copy unit's rows and its "done" row commit in the same
 * target transaction, so after any crash a unit is either fully there and marked, or absent
 * and unmarked. Schema objects created are recorded the same way (DDL is transactional in
 * PostgreSQL), so a rerun continues instead of failing on "already exists".
 * The schema is removed by `pgferry finish`.
 */
import type pg from 'pg';

export const CHECKPOINT_SCHEMA = 'pgferry';

const DDL = `
CREATE SCHEMA IF NOT EXISTS pgferry;
COMMENT ON SCHEMA pgferry IS 'pgferry migration checkpoints; remove with: pgferry finish';
CREATE TABLE IF NOT EXISTS pgferry.task (
  task_id     text PRIMARY KEY,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  status      text NOT NULL DEFAULT 'running',
  phase       text,
  snapshot    text,
  source      text,
  info        jsonb NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS pgferry.unit (
  task_id     text NOT NULL,
  unit_id     text NOT NULL,
  table_name  text NOT NULL,
  rows        bigint NOT NULL,
  bytes       bigint NOT NULL,
  snapshot    text,
  done_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (task_id, unit_id)
);
CREATE TABLE IF NOT EXISTS pgferry.object (
  task_id     text NOT NULL,
  object_key  text NOT NULL,
  kind        text NOT NULL,
  section     text NOT NULL,
  done_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (task_id, object_key)
);
`;

export async function checkpointSchemaExists(c: pg.Client): Promise<boolean> {
  const r = await c.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [CHECKPOINT_SCHEMA]);
  return r.rowCount === 1;
}

/** Create the checkpoint schema (idempotent) and register/refresh the task row. */
export async function ensureCheckpoints(c: pg.Client, taskId: string, source: string): Promise<{ resumed: boolean }> {
  // Concurrent CREATE ... IF NOT EXISTS can still race; serialize on an advisory lock.
  await c.query('BEGIN');
  try {
    await c.query(`SELECT pg_advisory_xact_lock(hashtext('pgferry.checkpoints'))`);
    await c.query(DDL);
    const r = await c.query(
      `INSERT INTO pgferry.task (task_id, source) VALUES ($1, $2)
       ON CONFLICT (task_id) DO UPDATE SET updated_at = now(), status = 'running'
       RETURNING (xmax <> 0) AS existed`,
      [taskId, source],
    );
    await c.query('COMMIT');
    return { resumed: r.rows[0].existed === true };
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  }
}

export async function setTaskPhase(c: pg.Client, taskId: string, phase: string, status = 'running'): Promise<void> {
  await c.query(`UPDATE pgferry.task SET phase = $2, status = $3, updated_at = now() WHERE task_id = $1`, [taskId, phase, status]);
}

export async function setTaskSnapshot(c: pg.Client, taskId: string, snapshot: string | null): Promise<void> {
  await c.query(`UPDATE pgferry.task SET snapshot = $2, updated_at = now() WHERE task_id = $1`, [taskId, snapshot]);
}

export interface TaskRow {
  task_id: string;
  status: string;
  phase: string | null;
  snapshot: string | null;
  created_at: Date;
  updated_at: Date;
  info: Record<string, unknown>;
}

export async function readTask(c: pg.Client, taskId: string): Promise<TaskRow | undefined> {
  if (!(await checkpointSchemaExists(c))) return undefined;
  const r = await c.query<TaskRow>(`SELECT * FROM pgferry.task WHERE task_id = $1`, [taskId]);
  return r.rows[0];
}

/** Inside the caller's open transaction, together with the unit's rows. */
export async function markUnitDone(
  c: pg.Client,
  u: { taskId: string; unitId: string; table: string; rows: number; bytes: number; snapshot: string | null },
): Promise<void> {
  await c.query(
    `INSERT INTO pgferry.unit (task_id, unit_id, table_name, rows, bytes, snapshot) VALUES ($1, $2, $3, $4, $5, $6)`,
    [u.taskId, u.unitId, u.table, u.rows, u.bytes, u.snapshot],
  );
}

export interface DoneUnit {
  unit_id: string;
  table_name: string;
  rows: string;
  bytes: string;
  snapshot: string | null;
}

export async function doneUnits(c: pg.Client, taskId: string): Promise<Map<string, DoneUnit>> {
  if (!(await checkpointSchemaExists(c))) return new Map();
  const r = await c.query<DoneUnit>(`SELECT unit_id, table_name, rows::text, bytes::text, snapshot FROM pgferry.unit WHERE task_id = $1`, [taskId]);
  return new Map(r.rows.map((u) => [u.unit_id, u]));
}

/** Inside the caller's transaction, together with the object's DDL. */
export async function markObjectDone(c: pg.Client, taskId: string, key: string, kind: string, section: string): Promise<void> {
  await c.query(
    `INSERT INTO pgferry.object (task_id, object_key, kind, section) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
    [taskId, key, kind, section],
  );
}

export async function doneObjects(c: pg.Client, taskId: string): Promise<Set<string>> {
  if (!(await checkpointSchemaExists(c))) return new Set();
  const r = await c.query<{ object_key: string }>(`SELECT object_key FROM pgferry.object WHERE task_id = $1`, [taskId]);
  return new Set(r.rows.map((o) => o.object_key));
}

export async function dropCheckpoints(c: pg.Client): Promise<void> {
  await c.query(`DROP SCHEMA IF EXISTS pgferry CASCADE`);
}

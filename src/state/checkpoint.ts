/**
 * Exact checkpoints on the target. A copy unit's rows and its "done" row commit in the same
 * target transaction, so after any crash a unit is either fully there and marked, or absent
 * and unmarked. Schema objects created are recorded the same way (DDL is transactional in
 * PostgreSQL), so a rerun continues instead of failing on "already exists".
 *
 * The checkpoint ("state") schema is named by the task (stateSchema, default pgferry) and
 * marked as pgferry's by its `format` table: a schema of that name that pgferry did not create
 * is user data and is never written to. `pgferry finish` removes a task's rows, and the
 * schema with the last task.
 */
import type pg from 'pg';
import { PgferryError } from '../core/errors.js';
import { applyMigrations, latestVersion } from './migrate.js';
import { CHECKPOINT_SET } from './migrations.js';
import { qualify, quoteIdent, quoteLiteral } from '../core/ident.js';

export const DEFAULT_STATE_SCHEMA = 'pgferry';
/** Version of the checkpoint tables' layout (src/state/migrations.ts), recorded in <schema>.format. */
export const STATE_FORMAT = latestVersion(CHECKPOINT_SET);
const MARKER = 'pgferry checkpoint schema marker';
const LEGACY_COMMENT = 'pgferry migration checkpoints; remove with: pgferry finish';
/** The tables pgferry creates in the state schema (finish drops exactly these). */
export const STATE_TABLES = ['task', 'unit', 'object', 'unit_plan', 'format', 'cdc'] as const;

const taskSchemas = new Map<string, string>();

/** Use `schema` for the checkpoints of `taskId` (every checkpoint function looks it up by task id). */
export function useStateSchema(taskId: string, schema: string | undefined): void {
  taskSchemas.set(taskId, schema ?? DEFAULT_STATE_SCHEMA);
}

export function stateSchemaFor(taskId: string): string {
  return taskSchemas.get(taskId) ?? DEFAULT_STATE_SCHEMA;
}

/** A checkpoint table of the task's state schema, quoted. */
export function stateTable(taskId: string, table: (typeof STATE_TABLES)[number]): string {
  return qualify(stateSchemaFor(taskId), table);
}

/** Serialises creation, migration and removal of the state schema between sessions and tasks. */
export const STATE_XACT_LOCK = `SELECT pg_advisory_xact_lock(hashtext('pgferry.checkpoints'))`;

function markerDdl(s: string): string {
  const q = quoteIdent(s);
  const note = `pgferry migration checkpoints; remove with: pgferry finish --state-schema ${s}`;
  return `
COMMENT ON SCHEMA ${q} IS ${quoteLiteral(note)};
CREATE TABLE ${q}.format (version int NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
COMMENT ON TABLE ${q}.format IS ${quoteLiteral(MARKER)};`;
}

/**
 * SQL: is the schema with oid `nsOid` a checkpoint schema pgferry created? (Marked by its `format`
 * table, or by the comment of a pgferry that did not mark yet.) Such a schema is never user data.
 */
export function isStateSchemaSql(nsOid: string): string {
  return `(EXISTS (SELECT 1 FROM pg_catalog.pg_class mk WHERE mk.relnamespace = ${nsOid} AND mk.relname = 'format'
             AND mk.relkind = 'r' AND pg_catalog.obj_description(mk.oid, 'pg_class') = ${quoteLiteral(MARKER)})
          OR (pg_catalog.obj_description(${nsOid}, 'pg_namespace') = ${quoteLiteral(LEGACY_COMMENT)}
              AND EXISTS (SELECT 1 FROM pg_catalog.pg_class mk WHERE mk.relnamespace = ${nsOid} AND mk.relname = 'task')))`;
}

/** absent: no such schema; ours: created (and marked) by pgferry; foreign: anything else. */
export type StateSchemaKind = 'absent' | 'ours' | 'foreign';

export async function stateSchemaKind(c: pg.Client, schema: string): Promise<StateSchemaKind> {
  const r = await c.query<{ ours: boolean }>(
    `SELECT ${isStateSchemaSql('n.oid')} AS ours FROM pg_namespace n WHERE n.nspname = $1`,
    [schema],
  );
  if (!r.rows.length) return 'absent';
  return r.rows[0].ours ? 'ours' : 'foreign';
}

/** The error for a state schema name taken by user data (precheck and runtime say the same). */
export function stateSchemaTaken(schema: string, why: string): PgferryError {
  return new PgferryError('state', `${why}: checkpoint schema ${quoteIdent(schema)} cannot be used`, {
    hint:
      `keep pgferry's checkpoints elsewhere with --state-schema <other> (task key stateSchema), or create that ` +
      `source schema under another name on the target with --map-schema ${schema}=<new>`,
  });
}

/** Whether the task's state schema exists and is pgferry's. */
export async function checkpointSchemaExists(c: pg.Client, schema = DEFAULT_STATE_SCHEMA): Promise<boolean> {
  return (await stateSchemaKind(c, schema)) === 'ours';
}

async function ensureSchema(c: pg.Client, s: string): Promise<void> {
  const kind = await stateSchemaKind(c, s);
  if (kind === 'foreign') {
    throw stateSchemaTaken(s, `target schema ${quoteIdent(s)} exists and was not created by pgferry`);
  }
  const marked = (await c.query(`SELECT to_regclass($1) AS r`, [qualify(s, 'format')])).rows[0].r !== null;
  if (kind === 'absent') await c.query(`CREATE SCHEMA ${quoteIdent(s)};${markerDdl(s)}`);
  else if (!marked) await c.query(markerDdl(s)); // created by a pgferry without the marker
  await applyMigrations(c, s, CHECKPOINT_SET); // the tables, or the steps a schema of an earlier layout lacks
}

/** Create the checkpoint schema (idempotent) and register/refresh the task row. */
export async function ensureCheckpoints(c: pg.Client, taskId: string, source: string): Promise<{ resumed: boolean }> {
  // Concurrent CREATE ... IF NOT EXISTS can still race; serialize on an advisory lock.
  await c.query('BEGIN');
  try {
    await c.query(STATE_XACT_LOCK);
    await ensureSchema(c, stateSchemaFor(taskId));
    const r = await c.query(
      `INSERT INTO ${stateTable(taskId, 'task')} (task_id, source) VALUES ($1, $2)
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
  await c.query(
    `UPDATE ${stateTable(taskId, 'task')} SET phase = $2, status = $3, updated_at = now() WHERE task_id = $1`,
    [taskId, phase, status],
  );
}

export async function setTaskSnapshot(c: pg.Client, taskId: string, snapshot: string | null): Promise<void> {
  await c.query(`UPDATE ${stateTable(taskId, 'task')} SET snapshot = $2, updated_at = now() WHERE task_id = $1`, [
    taskId,
    snapshot,
  ]);
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

/** Does the task's state schema exist, belong to pgferry and hold `table`? */
async function hasStateTable(c: pg.Client, taskId: string, table: (typeof STATE_TABLES)[number]): Promise<boolean> {
  if (!(await checkpointSchemaExists(c, stateSchemaFor(taskId)))) return false;
  const r = await c.query(`SELECT to_regclass($1) IS NOT NULL AS ok`, [stateTable(taskId, table)]);
  return r.rows[0].ok === true;
}

export async function readTask(c: pg.Client, taskId: string): Promise<TaskRow | undefined> {
  if (!(await hasStateTable(c, taskId, 'task'))) return undefined;
  const r = await c.query<TaskRow>(`SELECT * FROM ${stateTable(taskId, 'task')} WHERE task_id = $1`, [taskId]);
  return r.rows[0];
}

/** Inside the caller's open transaction, together with the unit's rows. */
export async function markUnitDone(
  c: pg.Client,
  u: { taskId: string; unitId: string; table: string; rows: number; bytes: number; snapshot: string | null },
): Promise<void> {
  await c.query(
    `INSERT INTO ${stateTable(u.taskId, 'unit')} (task_id, unit_id, table_name, rows, bytes, snapshot)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [u.taskId, u.unitId, u.table, u.rows, u.bytes, u.snapshot],
  );
}

/** Inside the caller's open transaction, together with the units' rows: one row per unit, one query. */
export async function markUnitsDone(
  c: pg.Client,
  taskId: string,
  units: { unitId: string; table: string; rows: number; bytes: number; snapshot: string | null }[],
): Promise<void> {
  if (units.length === 1) return markUnitDone(c, { taskId, ...units[0] });
  await c.query(
    `INSERT INTO ${stateTable(taskId, 'unit')} (task_id, unit_id, table_name, rows, bytes, snapshot)
     SELECT $1, * FROM unnest($2::text[], $3::text[], $4::int8[], $5::int8[], $6::text[])`,
    [
      taskId,
      units.map((u) => u.unitId),
      units.map((u) => u.table),
      units.map((u) => u.rows),
      units.map((u) => u.bytes),
      units.map((u) => u.snapshot),
    ],
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
  if (!(await hasStateTable(c, taskId, 'unit'))) return new Map();
  const r = await c.query<DoneUnit>(
    `SELECT unit_id, table_name, rows::text, bytes::text, snapshot
       FROM ${stateTable(taskId, 'unit')} WHERE task_id = $1`,
    [taskId],
  );
  return new Map(r.rows.map((u) => [u.unit_id, u]));
}

/** Inside the caller's transaction, together with the object's DDL. */
export async function markObjectDone(
  c: pg.Client,
  taskId: string,
  key: string,
  kind: string,
  section: string,
): Promise<void> {
  await c.query(
    `INSERT INTO ${stateTable(taskId, 'object')} (task_id, object_key, kind, section) VALUES ($1, $2, $3, $4)
     ON CONFLICT DO NOTHING`,
    [taskId, key, kind, section],
  );
}

/** Inside the caller's transaction, together with the objects' DDL: one row per object, one query. */
export async function markObjectsDone(
  c: pg.Client,
  taskId: string,
  objects: { key: string; kind: string; section: string }[],
): Promise<void> {
  if (!objects.length) return;
  await c.query(
    `INSERT INTO ${stateTable(taskId, 'object')} (task_id, object_key, kind, section)
     SELECT $1, k, o, s FROM unnest($2::text[], $3::text[], $4::text[]) AS x(k, o, s)
     ON CONFLICT DO NOTHING`,
    [taskId, objects.map((x) => x.key), objects.map((x) => x.kind), objects.map((x) => x.section)],
  );
}

export async function doneObjects(c: pg.Client, taskId: string): Promise<Set<string>> {
  if (!(await hasStateTable(c, taskId, 'object'))) return new Set();
  const r = await c.query<{ object_key: string }>(
    `SELECT object_key FROM ${stateTable(taskId, 'object')} WHERE task_id = $1`,
    [taskId],
  );
  return new Set(r.rows.map((o) => o.object_key));
}

/**
 * What a task has done in total, over every run, as committed on the target: the unit plans
 * (pgferry.unit_plan: every selected table and its units), the done units (pgferry.unit: rows
 * and bytes committed with them) and the done schema objects (pgferry.object). Rows of a unit
 * that failed or was cut off are rolled back with its checkpoint, so they never count here.
 */
import type pg from 'pg';
import { checkpointSchemaExists, DEFAULT_STATE_SCHEMA } from '../../state/checkpoint.js';
import { qualify } from '../../core/ident.js';
import { type CaptureStatus, readCaptureStatus } from './capture-status.js';

/** The key under which large objects are checkpointed (src/stages/data/copy/largeobjects.ts). */
const LARGE_OBJECTS = 'pg_largeobject';

export interface CheckpointTable {
  table: string;
  /** Units planned for the table; null when the plan is not stored yet. */
  units: number | null;
  unitsDone: number;
  rows: number;
  bytes: number;
}

export interface CheckpointTotals {
  status: string;
  phase: string | null;
  updatedAt: string;
  /** Tables selected for the copy (their unit plans); null before the data phase planned them. */
  tablesSelected: number | null;
  tablesDone: number;
  unitsPlanned: number | null;
  unitsDone: number;
  rows: number;
  bytes: number;
  largeObjects: number;
  objectsDone: number;
  /** Done schema objects by kind (index builds split in two halves and ANALYZE not counted). */
  objects: Record<string, number>;
  tables: CheckpointTable[];
  /** Incremental tasks: the change capture (src/stages/report/capture-status.ts). */
  capture?: CaptureStatus;
}

const doneSql = (schema: string) => `
  SELECT table_name, count(*)::int AS done, sum(rows)::text AS rows, sum(bytes)::text AS bytes
    FROM ${qualify(schema, 'unit')} WHERE task_id = $1 GROUP BY table_name`;

const planSql = (schema: string) =>
  `SELECT table_name, cardinality(boundaries) AS units FROM ${qualify(schema, 'unit_plan')} WHERE task_id = $1`;

const objectsSql = (schema: string) => `
  SELECT kind, count(*)::int AS n FROM ${qualify(schema, 'object')}
   WHERE task_id = $1 AND kind <> 'analyze' AND object_key NOT LIKE '%#index'
   GROUP BY kind ORDER BY kind`;

async function readTables(
  c: pg.Client,
  task: string,
  schema: string,
): Promise<{ tables: CheckpointTable[]; planned: boolean }> {
  const r = await c.query<{ rel: string | null }>(`SELECT to_regclass($1)::text AS rel`, [
    qualify(schema, 'unit_plan'),
  ]);
  const planned = r.rows[0].rel !== null;
  const byTable = new Map<string, CheckpointTable>();
  const get = (table: string) =>
    byTable.get(table) ?? byTable.set(table, { table, units: null, unitsDone: 0, rows: 0, bytes: 0 }).get(table)!;
  if (planned) {
    const p = await c.query<{ table_name: string; units: number }>(planSql(schema), [task]);
    for (const x of p.rows) get(x.table_name).units = x.units;
  }
  const d = await c.query<{ table_name: string; done: number; rows: string; bytes: string }>(doneSql(schema), [task]);
  for (const x of d.rows) {
    Object.assign(get(x.table_name), { unitsDone: x.done, rows: Number(x.rows), bytes: Number(x.bytes) });
  }
  return { tables: [...byTable.values()].sort((a, b) => a.table.localeCompare(b.table)), planned };
}

/** The task's totals on the target, or null when the target holds no checkpoints for it. */
export async function readCheckpoints(
  c: pg.Client,
  task: string,
  schema = DEFAULT_STATE_SCHEMA,
): Promise<CheckpointTotals | null> {
  if (!(await checkpointSchemaExists(c, schema))) return null;
  const head = await c.query<{ status: string; phase: string | null; updated_at: Date }>(
    `SELECT status, phase, updated_at FROM ${qualify(schema, 'task')} WHERE task_id = $1`,
    [task],
  );
  if (head.rows.length === 0) return null;
  const { tables: all, planned } = await readTables(c, task, schema);
  const objects = await c.query<{ kind: string; n: number }>(objectsSql(schema), [task]);
  const lo = all.find((t) => t.table === LARGE_OBJECTS);
  const tables = all.filter((t) => t.table !== LARGE_OBJECTS);
  const sum = (f: (t: CheckpointTable) => number) => tables.reduce((a, t) => a + f(t), 0);
  const byKind = Object.fromEntries(objects.rows.map((o) => [o.kind, o.n]));
  const capture = await readCaptureStatus(c, task, schema);
  return {
    status: head.rows[0].status,
    phase: head.rows[0].phase,
    updatedAt: new Date(head.rows[0].updated_at).toISOString(),
    tablesSelected: planned ? tables.filter((t) => t.units !== null).length : null,
    tablesDone: tables.filter((t) => t.units !== null && t.unitsDone >= t.units).length,
    unitsPlanned: planned ? sum((t) => t.units ?? 0) : null,
    unitsDone: sum((t) => t.unitsDone),
    rows: sum((t) => t.rows),
    bytes: sum((t) => t.bytes),
    largeObjects: lo?.unitsDone ?? 0,
    objectsDone: objects.rows.reduce((a, o) => a + o.n, 0),
    objects: byKind,
    tables,
    ...(capture ? { capture } : {}),
  };
}

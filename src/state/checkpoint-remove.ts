/**
 * Removing checkpoints (`pgferry finish`): only what pgferry created, only for the tasks named.
 * Other tasks' checkpoints in the same state schema stay; the schema goes with its last task,
 * and only pgferry's own tables are dropped (a schema someone added objects to is kept).
 */
import type pg from 'pg';
import { isPgError } from '../core/errors.js';
import { qualify, quoteIdent } from '../core/ident.js';
import { STATE_TABLES, STATE_XACT_LOCK, stateSchemaKind, type StateSchemaKind } from './checkpoint.js';

export interface RemoveResult {
  kind: StateSchemaKind;
  /** Tasks whose checkpoints were removed. */
  removed: string[];
  /** Tasks still checkpointed in the schema (it is kept for them). */
  left: string[];
  droppedSchema: boolean;
  /** Set when the schema had to stay because it holds objects pgferry did not create. */
  keptBecause?: string;
}

async function existingTables(c: pg.Client, schema: string): Promise<string[]> {
  const r = await c.query<{ relname: string }>(
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind = 'r' AND c.relname = ANY ($2::text[])`,
    [schema, [...STATE_TABLES]],
  );
  return r.rows.map((x) => x.relname);
}

async function dropSchema(c: pg.Client, schema: string, tables: string[], out: RemoveResult): Promise<void> {
  for (const t of tables) await c.query(`DROP TABLE ${qualify(schema, t)}`);
  await c.query('SAVEPOINT pgferry_drop_schema');
  try {
    await c.query(`DROP SCHEMA ${quoteIdent(schema)}`);
    out.droppedSchema = true;
  } catch (e) {
    if (!isPgError(e) || e.code !== '2BP01') throw e;
    await c.query('ROLLBACK TO SAVEPOINT pgferry_drop_schema');
    out.keptBecause = `schema ${quoteIdent(schema)} also holds objects pgferry did not create; it was left in place`;
  }
}

export async function removeTaskCheckpoints(c: pg.Client, schema: string, tasks: string[]): Promise<RemoveResult> {
  await c.query('BEGIN');
  try {
    await c.query(STATE_XACT_LOCK);
    const out: RemoveResult = { kind: await stateSchemaKind(c, schema), removed: [], left: [], droppedSchema: false };
    if (out.kind !== 'ours') {
      await c.query('COMMIT');
      return out;
    }
    const tables = await existingTables(c, schema);
    for (const t of tables.filter((x) => x !== 'format' && x !== 'task')) {
      await c.query(`DELETE FROM ${qualify(schema, t)} WHERE task_id = ANY ($1::text[])`, [tasks]);
    }
    if (tables.includes('task')) {
      const task = qualify(schema, 'task');
      const r = await c.query<{ task_id: string }>(
        `DELETE FROM ${task} WHERE task_id = ANY ($1::text[]) RETURNING task_id`,
        [tasks],
      );
      out.removed = r.rows.map((x) => x.task_id);
      const left = await c.query<{ task_id: string }>(`SELECT task_id FROM ${task} ORDER BY 1`);
      out.left = left.rows.map((x) => x.task_id);
    }
    if (out.left.length === 0) await dropSchema(c, schema, tables, out);
    await c.query('COMMIT');
    return out;
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  }
}

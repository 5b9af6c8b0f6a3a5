/**
 * Index steps of small tables in one target transaction: the early statements and ANALYZEs of a
 * group of small tables run as one script and commit with all their checkpoint rows. The local
 * index builder runs a group once (index-batch.ts). A worker's index job may run twice (its first
 * worker given up for dead while it still ran: distributed/index-build.ts), so it is guarded: the
 * transaction first takes every step's advisory lock and leaves out the steps already done.
 */
import type pg from 'pg';
import { qualify } from '../../../core/ident.js';
import { type Statement, terminated } from '../../../core/statement.js';
import { markObjectsDone, stateTable } from '../../../state/checkpoint.js';
import { analyzeKey } from '../../../state/keys.js';

/** One step: an early statement or a table's ANALYZE, with the checkpoint row it commits. */
export interface IndexStep {
  sql: string;
  key: string;
  kind: string;
  section: string;
  /** A further checkpoint that tells the step done: its build's attachment, recorded whole. */
  doneAlso?: string;
}

/** The step of an early statement (an index build, or the attachment that follows the builds). */
export function statementStep(st: Statement): IndexStep {
  const step = { sql: st.sql, key: st.key, kind: st.kind, section: st.section };
  return st.buildOf !== undefined ? { ...step, doneAlso: st.buildOf } : step;
}

/** The step of a table's ANALYZE (`table`: its CopyTable key). */
export function analyzeStep(table: string, target: { schema: string; name: string }): IndexStep {
  return {
    sql: `ANALYZE ${qualify(target.schema, target.name)}`,
    key: analyzeKey(table),
    kind: 'analyze',
    section: 'early',
  };
}

/** The checkpoints that tell the step done. */
const doneKeys = (s: IndexStep): string[] => (s.doneAlso !== undefined ? [s.key, s.doneAlso] : [s.key]);

/** A group that may run twice: `lockOf` names the advisory lock of a step's checkpoint key. */
export interface GroupGuard {
  lockOf: (key: string) => string;
}

/** The steps whose checkpoint is not there yet. */
export async function notDone(c: pg.Client, taskId: string, steps: IndexStep[]): Promise<IndexStep[]> {
  const r = await c.query<{ k: string }>(
    `SELECT object_key AS k FROM ${stateTable(taskId, 'object')} WHERE task_id = $1 AND object_key = ANY($2)`,
    [taskId, steps.flatMap(doneKeys)],
  );
  const done = new Set(r.rows.map((x) => x.k));
  return steps.filter((s) => !doneKeys(s).some((k) => done.has(k)));
}

const script = (steps: IndexStep[]) => steps.map((s) => terminated(s.sql)).join('\n');

/**
 * Runs the steps in one transaction and commits them with their checkpoint rows. Guarded: every
 * step's lock first (in name order), and only the steps not done yet; false when none was left.
 * On failure the transaction is rolled back (nothing of the group stays) and the error thrown.
 */
export async function buildGroup(
  c: pg.Client,
  taskId: string,
  steps: IndexStep[],
  guard?: GroupGuard,
): Promise<boolean> {
  try {
    let todo = steps;
    if (guard) {
      await c.query('BEGIN');
      await c.query('SELECT pg_advisory_xact_lock(hashtext(l)) FROM unnest($1::text[]) AS l ORDER BY l', [
        steps.map((s) => guard.lockOf(s.key)),
      ]);
      todo = await notDone(c, taskId, steps);
      if (todo.length === 0) {
        await c.query('ROLLBACK');
        return false;
      }
      await c.query(script(todo));
    } else {
      await c.query(`BEGIN;\n${script(todo)}`);
    }
    await markObjectsDone(
      c,
      taskId,
      todo.map(({ key, kind, section }) => ({ key, kind, section })),
    );
    await c.query('COMMIT');
    return true;
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  }
}

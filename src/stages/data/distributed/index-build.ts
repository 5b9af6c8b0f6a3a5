/**
 * An index job on a worker: one early statement of a table (an index build, or the attachment
 * that follows the builds) or the table's ANALYZE, committed with its checkpoint row in one
 * target transaction. The transaction first takes an advisory lock on the statement's key and
 * reads its checkpoint: a job run twice (its first worker given up for dead while its build
 * still ran) waits for the first run's transaction to end, and finds it done instead of failing
 * on the existing index.
 */
import type pg from 'pg';
import type { Statement } from '../../../core/statement.js';
import { statementError } from '../../../core/privilege-fix.js';
import { qualify, quoteIdent } from '../../../core/ident.js';
import { markObjectDone, stateTable } from '../../../state/checkpoint.js';
import { analyzeKey } from '../../../state/keys.js';

export interface IndexJobData {
  taskId: string;
  /** The CopyTable key ('' for statements of tables not copied). */
  table: string;
  /** The statement; absent: the table's ANALYZE. */
  stmt?: Statement;
  /** The target table (for ANALYZE). */
  target?: { schema: string; name: string };
}

export interface IndexJobOutput {
  worker: string;
  /** false: its checkpoint was there (an earlier run of the job committed it). */
  ran: boolean;
  durationMs: number;
}

/** The checkpoint key the job commits. */
export function indexJobKey(d: IndexJobData): string {
  return d.stmt ? d.stmt.key : analyzeKey(d.table);
}

/** Run the job on `c` (a target session of the task's target role); false when it was done already. */
export async function runIndexJob(c: pg.Client, d: IndexJobData, targetRole: string): Promise<boolean> {
  const key = indexJobKey(d);
  const st = d.stmt;
  const sql = st ? st.sql : `ANALYZE ${qualify(d.target!.schema, d.target!.name)}`;
  const doneKeys = st?.buildOf !== undefined ? [key, st.buildOf] : [key];
  const tx = st?.transactional !== false;
  const isDone = async () =>
    ((
      await c.query(`SELECT 1 FROM ${stateTable(d.taskId, 'object')} WHERE task_id = $1 AND object_key = ANY($2)`, [
        d.taskId,
        doneKeys,
      ])
    ).rowCount ?? 0) > 0;
  const lock = `pgferry index ${d.taskId} ${key}`;
  try {
    if (tx) {
      await c.query('BEGIN');
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [lock]);
    } else {
      await c.query('SELECT pg_advisory_lock(hashtext($1))', [lock]);
    }
    if (await isDone()) {
      await c.query(tx ? 'ROLLBACK' : 'SELECT pg_advisory_unlock(hashtext($1))', tx ? [] : [lock]);
      return false;
    }
    await c.query(sql);
    await markObjectDone(c, d.taskId, key, st ? st.kind : 'analyze', st ? st.section : 'early');
    await c.query(tx ? 'COMMIT' : 'SELECT pg_advisory_unlock(hashtext($1))', tx ? [] : [lock]);
    return true;
  } catch (e) {
    await c.query(tx ? 'ROLLBACK' : 'SELECT pg_advisory_unlock(hashtext($1))', tx ? [] : [lock]).catch(() => {});
    // a refused privilege names the GRANT that fixes it
    throw st ? statementError('schema', sql, e, `${st.kind} ${st.name}`, quoteIdent(targetRole)) : e;
  }
}

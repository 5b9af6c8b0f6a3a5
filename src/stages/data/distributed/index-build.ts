/**
 * An index job on a worker: one early statement of a table (an index build, or the attachment
 * that follows the builds) or the table's ANALYZE, committed with its checkpoint row in one
 * target transaction. The transaction first takes an advisory lock on the statement's key and
 * reads its checkpoint: a job run twice (its first worker given up for dead while its build
 * still ran) waits for the first run's transaction to end, and finds it done instead of failing
 * on the existing index.
 *
 * Small tables go whole, many to a job (a group, as the local builder batches them; both run it with
 * copy/index-group.ts): every step of the group in one transaction, with each step's lock taken and
 * its checkpoint read first (steps done already are left out) and each step's checkpoint row
 * committed with it. Should the group fail, its steps run again one by one, each as a job of its
 * own would, naming the one that fails.
 */
import type pg from 'pg';
import type { Statement } from '../../../core/statement.js';
import { statementError } from '../../../core/privilege-fix.js';
import { quoteIdent } from '../../../core/ident.js';
import { markObjectDone } from '../../../state/checkpoint.js';
import { analyzeKey } from '../../../state/keys.js';
import { analyzeStep, buildGroup, type IndexStep, notDone, statementStep } from '../copy/index-group.js';

export interface IndexJobData {
  taskId: string;
  /** The CopyTable key ('' for statements of tables not copied, and for a group). */
  table: string;
  /** The statement; absent: the table's ANALYZE (or a group). */
  stmt?: Statement;
  /** The target table (for ANALYZE). */
  target?: { schema: string; name: string };
  /** Small tables taken whole: their statements, then their ANALYZE, in one transaction. */
  group?: IndexGroupMember[];
}

/** A small table of a group: its statements still to do, and whether its ANALYZE follows. */
export interface IndexGroupMember {
  table: string;
  stmts: Statement[];
  analyze: boolean;
  target: { schema: string; name: string };
}

export interface IndexJobOutput {
  worker: string;
  /** false: its checkpoint was there (an earlier run of the job committed it). */
  ran: boolean;
  durationMs: number;
}

/** The checkpoint key the job commits (a group: its tables'). */
export function indexJobKey(d: IndexJobData): string {
  if (d.group) return `group ${d.group.map((m) => m.table).join(' ')}`;
  return d.stmt ? d.stmt.key : analyzeKey(d.table);
}

/** What the job does, for messages. */
export function describeIndexJob(d: IndexJobData): string {
  if (d.group) return `index builds of ${d.group.length} small tables`;
  return d.stmt ? `${d.stmt.kind} ${d.stmt.name}` : `ANALYZE of ${d.table}`;
}

/** A group's steps, each as the job of its own it stands for. */
export function groupSteps(d: IndexJobData): IndexJobData[] {
  return (d.group ?? []).flatMap((m) => [
    ...m.stmts.map((stmt) => ({ taskId: d.taskId, table: m.table, stmt })),
    ...(m.analyze ? [{ taskId: d.taskId, table: m.table, target: m.target }] : []),
  ]);
}

const lockOf = (taskId: string, key: string) => `pgferry index ${taskId} ${key}`;
/** The step the job (not a group) runs, and the checkpoint row it commits. */
const stepOf = (d: IndexJobData): IndexStep => (d.stmt ? statementStep(d.stmt) : analyzeStep(d.table, d.target!));

/** Every step the job runs (a group's, or the job's one), each with the checkpoint it commits. */
export const jobSteps = (d: IndexJobData): IndexStep[] => (d.group ? groupSteps(d) : [d]).map(stepOf);

/**
 * A group in one transaction (copy/index-group.ts), guarded: every step's lock, the steps not done
 * yet, their checkpoint rows, commit. False when every step was done already.
 */
const runGroup = (c: pg.Client, d: IndexJobData): Promise<boolean> =>
  buildGroup(c, d.taskId, groupSteps(d).map(stepOf), { lockOf: (key) => lockOf(d.taskId, key) });

/** Run the job on `c` (a target session of the task's target role); false when it was done already. */
export async function runIndexJob(c: pg.Client, d: IndexJobData, targetRole: string): Promise<boolean> {
  if (d.group) {
    try {
      return await runGroup(c, d);
    } catch {
      // one by one, as separate jobs would run them: the failing step is named (or it was passing)
      let ran = false;
      for (const step of groupSteps(d)) if (await runIndexJob(c, step, targetRole)) ran = true;
      return ran;
    }
  }
  const st = d.stmt;
  const step = stepOf(d);
  const { key, sql } = step;
  const tx = st?.transactional !== false;
  const isDone = async () => (await notDone(c, d.taskId, [step])).length === 0;
  const lock = lockOf(d.taskId, key);
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
    await markObjectDone(c, d.taskId, key, step.kind, step.section);
    await c.query(tx ? 'COMMIT' : 'SELECT pg_advisory_unlock(hashtext($1))', tx ? [] : [lock]);
    return true;
  } catch (e) {
    await c.query(tx ? 'ROLLBACK' : 'SELECT pg_advisory_unlock(hashtext($1))', tx ? [] : [lock]).catch(() => {});
    // a refused privilege names the GRANT that fixes it
    throw st ? statementError('schema', sql, e, `${st.kind} ${st.name}`, quoteIdent(targetRole)) : e;
  }
}

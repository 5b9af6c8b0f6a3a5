/**
 * A worker checks every job it takes from the control database before it runs anything of it:
 * whoever can write a row there (the job system's tables are in an ordinary database, often shared)
 * must not be able to make a worker run SQL of their choosing with the worker's accounts.
 *
 * - A copy job's members must have the shape the coordinator gives them: block numbers that are
 *   integers (they are written into the unit's ctid predicate), names that are strings (quoted
 *   where they are used), a format of `text` or `binary`, a row filter that passes checkRowFilter.
 * - An index job's statements must be the index steps the schema stage makes for a table (DDL
 *   generator, families/indexes.ts), read by PostgreSQL's own parser: CREATE INDEX, ALTER TABLE …
 *   ADD CONSTRAINT of a PRIMARY KEY, UNIQUE or EXCLUDE constraint, ALTER TABLE … CLUSTER ON,
 *   ALTER INDEX … ATTACH PARTITION and COMMENT ON INDEX/CONSTRAINT — nothing else. PostgreSQL
 *   itself allows only IMMUTABLE functions and no sub-queries in index expressions and predicates.
 * - Either job must be of the task whose queue it came from.
 */
import { loadModule, parseSync } from 'libpg-query';
import { checkRowFilter } from '../../../core/filter.js';
import { PgferryError } from '../../../core/errors.js';
import type { Statement } from '../../../core/statement.js';
import type { UnitJob } from './consumer.js';
import type { IndexJobData } from './index-build.js';

await loadModule();

const HINT =
  'only a pgferry coordinator (pgferry migrate --distributed, pgferry serve --control) should queue jobs: ' +
  'check who can write to the control database (schemas pgferry_jobs and pgferry_control) and revoke it from anyone else';

function refused(taskId: string, what: string): PgferryError {
  return new PgferryError('data', `a job of task "${taskId}" was refused: ${what}`, { hint: HINT });
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isName = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && !v.includes('\u0000');
const isBlock = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isQualified = (v: unknown) => isObject(v) && isName(v.schema) && isName(v.name);

/** Why a copy job's member is not one the coordinator makes, or undefined. */
function memberProblem(m: unknown): string | undefined {
  if (!isObject(m) || !isObject(m.unit)) return 'a member without a unit';
  const u = m.unit;
  if (typeof u.id !== 'string') return 'a unit without an id';
  if (!isBlock(u.start)) return `unit ${u.id}: start block ${JSON.stringify(u.start)} is not a block number`;
  if (u.end !== null && !(isBlock(u.end) && u.end > u.start)) {
    return `unit ${u.id}: end block ${JSON.stringify(u.end)} is not a block number after the start`;
  }
  if (!isBlock(u.of) || u.of < 1) return `unit ${u.id}: ${JSON.stringify(u.of)} is not a number of units`;
  if (u.batch !== undefined) return `unit ${u.id}: a batch inside a member`;
  const t = u.table;
  if (!isObject(t) || typeof t.key !== 'string' || !isQualified(t.source) || !isQualified(t.target)) {
    return `unit ${u.id}: its table has no source and target names`;
  }
  const columns = t.columns;
  if (!Array.isArray(columns) || !columns.every((c) => isObject(c) && isName(c.source) && isName(c.target))) {
    return `unit ${u.id}: a column without a source and target name`;
  }
  if (t.where !== undefined && typeof t.where !== 'string') return `unit ${u.id}: a row filter that is not text`;
  if (m.format !== 'text' && m.format !== 'binary') return `unit ${u.id}: format ${JSON.stringify(m.format)}`;
  if (typeof m.qualifyNames !== 'boolean' || typeof m.freezeOk !== 'boolean') return `unit ${u.id}: its copy settings`;
  return undefined;
}

/** A copy job as the coordinator makes it (jobOf), of task `taskId`; refused otherwise. */
export function checkUnitJob(taskId: string, job: unknown): UnitJob {
  if (!isObject(job) || job.taskId !== taskId) throw refused(taskId, 'it names another task');
  if (!Array.isArray(job.members) || job.members.length === 0) throw refused(taskId, 'it has no units');
  for (const m of job.members) {
    const problem = memberProblem(m);
    if (problem) throw refused(taskId, problem);
    const t = (m as UnitJob['members'][number]).unit.table;
    if (t.where !== undefined) checkRowFilter(t.where, t.key);
  }
  return job as unknown as UnitJob;
}

type Node = Record<string, Record<string, unknown>>;

const ALTER_TABLE_STEPS = new Set(['AT_AddConstraint', 'AT_ClusterOn']);
const INDEX_CONSTRAINTS = new Set(['CONSTR_PRIMARY', 'CONSTR_UNIQUE', 'CONSTR_EXCLUSION']);
const COMMENTED = new Set(['OBJECT_INDEX', 'OBJECT_TABCONSTRAINT']);

/** Why one parsed statement is not an index step, or undefined. */
function stepProblem(stmt: Node): string | undefined {
  const [type] = Object.keys(stmt);
  const s = stmt[type];
  if (type === 'IndexStmt') return s.concurrent ? 'CREATE INDEX CONCURRENTLY' : undefined;
  if (type === 'CommentStmt') return COMMENTED.has(s.objtype as string) ? undefined : `COMMENT ON ${s.objtype}`;
  if (type !== 'AlterTableStmt') return type;
  const cmds = ((s.cmds as Node[] | undefined) ?? []).map((c) => c.AlterTableCmd ?? {});
  if (cmds.length !== 1) return 'ALTER with several steps';
  const [cmd] = cmds;
  if (s.objtype === 'OBJECT_INDEX')
    return cmd.subtype === 'AT_AttachPartition' ? undefined : `ALTER INDEX ${cmd.subtype}`;
  if (s.objtype !== 'OBJECT_TABLE' || !ALTER_TABLE_STEPS.has(cmd.subtype as string)) {
    return `ALTER ${s.objtype} ${cmd.subtype}`;
  }
  const def = (cmd.def as Node | undefined)?.Constraint;
  if (cmd.subtype === 'AT_AddConstraint' && !INDEX_CONSTRAINTS.has(def?.contype as string)) {
    return `ADD CONSTRAINT ${def?.contype ?? ''}`;
  }
  return undefined;
}

/** An early statement of an index job: index steps only (see above); refused otherwise. */
export function checkIndexStatement(taskId: string, st: unknown): Statement {
  if (!isObject(st) || typeof st.sql !== 'string' || typeof st.key !== 'string' || typeof st.name !== 'string') {
    throw refused(taskId, 'a statement without its text, key or name');
  }
  let stmts: Node[];
  try {
    stmts = (parseSync(st.sql) as { stmts: { stmt: Node }[] }).stmts.map((x) => x.stmt);
  } catch (e) {
    throw refused(taskId, `${st.name}: not valid SQL (${(e as Error).message})`);
  }
  if (stmts.length === 0) throw refused(taskId, `${st.name}: an empty statement`);
  for (const s of stmts) {
    const problem = stepProblem(s);
    if (problem) throw refused(taskId, `${st.name}: ${problem} is not an index step`);
  }
  return st as unknown as Statement;
}

/** An index job as the coordinator makes it (index-dispatch.ts), of task `taskId`; refused otherwise. */
export function checkIndexJob(taskId: string, d: unknown): IndexJobData {
  if (!isObject(d) || d.taskId !== taskId) throw refused(taskId, 'it names another task');
  if (typeof d.table !== 'string') throw refused(taskId, 'it names no table');
  if (d.group !== undefined) {
    if (!Array.isArray(d.group) || d.group.length === 0) throw refused(taskId, 'an empty group');
    for (const m of d.group) {
      if (!isObject(m) || typeof m.table !== 'string' || !Array.isArray(m.stmts) || !isQualified(m.target)) {
        throw refused(taskId, 'a group member without its table, statements and target');
      }
      for (const st of m.stmts) checkIndexStatement(taskId, st);
    }
    return d as unknown as IndexJobData;
  }
  if (d.stmt !== undefined) checkIndexStatement(taskId, d.stmt);
  else if (!isQualified(d.target)) throw refused(taskId, 'an ANALYZE without its target table');
  return d as unknown as IndexJobData;
}

/**
 * Applying generated DDL to the target: statements in batches of BATCH_STATEMENTS per transaction,
 * committed together with their checkpoint rows (so a rerun skips exactly what is done); a batch
 * that fails is redone one statement per transaction, which names the statement that fails.
 * Given more target sessions (`openSide`, `sideSessions`), runs of tables that do not depend on
 * each other (./independent.ts) are created on all sessions at once, batch by batch; what follows
 * such a run starts once all of it is committed, so every object still finds what it needs, and a
 * rerun after any stop finds done exactly what was committed. A table with a TOAST table costs the
 * server a file sync (the TOAST index's build), which sessions side by side overlap.
 * And the source-side convenience
 * readSourceSchema = introspect + generate.
 */
import type pg from 'pg';
import { introspect } from './catalog/introspect.js';
import type { SourceCatalog } from './catalog/model.js';
import { generateDdl, type GeneratedSchema } from './ddl/generate.js';
import { type Statement, terminated } from '../../core/statement.js';
import { isPgError } from '../../core/errors.js';
import { statementError } from '../../core/privilege-fix.js';
import { doneObjects, markObjectDone, markObjectsDone } from '../../state/checkpoint.js';
import { isTransient } from '../../pg/retry.js';
import type { EventBus } from '../../core/events.js';
import type { Selection } from '../../core/selection.js';
import { quoteIdent } from '../../core/ident.js';
import { schemaAclNoop } from './acl-noop.js';
import { alreadyEqual } from './skip.js';
import { splitStatements, type Part } from './split.js';
import { independentRuns } from './independent.js';

export type { GeneratedSchema } from './ddl/generate.js';

/** Session settings every DDL script needs (function bodies may refer to objects created later). */
export const SESSION_SETUP = `SET check_function_bodies = false; SET client_min_messages = warning; SELECT pg_catalog.set_config('search_path', '', false);`;

const LOCAL_SETUP = `SET LOCAL check_function_bodies = false; SELECT pg_catalog.set_config('search_path', '', true);`;

/** The one catalog read of a run (DDL model and facts), and the DDL generated from it. */
export async function readSourceSchema(
  source: pg.Client,
  sel: Selection,
  /** Runs on the model before the DDL is generated from it (e.g. to narrow the selection). */
  beforeDdl?: (model: SourceCatalog) => void,
): Promise<GeneratedSchema & { model: SourceCatalog }> {
  const model = await introspect(source);
  beforeDdl?.(model);
  return { ...generateDdl(model, sel), model };
}

export interface ApplyOptions {
  taskId: string;
  events: EventBus;
  ifExists: 'error' | 'skip' | 'drop';
  /** Statements per transaction (default BATCH_STATEMENTS); 1 applies them one by one. */
  batchStatements?: number;
  /**
   * Opens another session to the target (same account): independent tables are then created on
   * `target` and `sideSessions` such sessions at once. Closed before applyStatements returns. Not
   * used with ifExists: drop (its DROP … CASCADE may reach objects of another session's tables).
   */
  openSide?: () => Promise<pg.Client>;
  /** How many sessions openSide opens (default 1). */
  sideSessions?: number;
}

// duplicate_table, duplicate_object, duplicate_schema, duplicate_function, duplicate_alias?, duplicate_database
const DUPLICATE = new Set(['42P07', '42710', '42P06', '42723', '42712']);

/** Statements per transaction: each batch commits its DDL and its checkpoint rows together. */
export const BATCH_STATEMENTS = 100;

export async function applyStatements(
  target: pg.Client,
  stmts: Statement[],
  o: ApplyOptions,
): Promise<{ created: number; skipped: number }> {
  const done = await doneObjects(target, o.taskId);
  const who = quoteIdent((await target.query<{ u: string }>('SELECT current_user AS u')).rows[0].u);
  let skipped = 0;
  const todo: Statement[] = [];
  for (const s of stmts) {
    if (done.has(s.key)) {
      skipped++;
      o.events.emit({ type: 'object', action: 'skipped', kind: s.kind, name: s.name, section: s.section });
    } else todo.push(s);
  }
  const batchSize = o.batchStatements ?? BATCH_STATEMENTS;
  const open = o.openSide && o.ifExists !== 'drop' ? o.openSide : undefined;
  const sides = open ? Array.from({ length: Math.max(1, o.sideSessions ?? 1) }, () => new SideSession(open)) : [];
  try {
    for (const run of sides.length ? independentRuns(todo, MIN_SHARED_RUN) : [{ stmts: todo, independent: false }]) {
      if (run.independent && sides.length) {
        // two batches for every session at least (one session's slow batch is not all the wait),
        // of SHARED_BATCH_MIN statements or more
        const share = Math.ceil(run.stmts.length / (2 * (sides.length + 1)));
        const size = Math.min(batchSize, Math.max(SHARED_BATCH_MIN, share));
        await applyShared(target, sides, batchesOf(run.stmts, size), o, who);
      } else for (const batch of batchesOf(run.stmts, batchSize)) await applyBatchOrOne(target, batch, o, who);
    }
  } finally {
    await Promise.all(sides.map((x) => x.close()));
  }
  return { created: todo.length, skipped };
}

/** Independent tables fewer than this are created on one session (not worth a second one). */
export const MIN_SHARED_RUN = 20;
/** Statements per transaction on shared runs, at least (a session is opened only for a batch). */
const SHARED_BATCH_MIN = 10;

function batchesOf(stmts: Statement[], size: number): Statement[][] {
  const out: Statement[][] = [];
  for (let i = 0; i < stmts.length; i += size) out.push(stmts.slice(i, i + size));
  return out;
}

async function applyBatchOrOne(target: pg.Client, batch: Statement[], o: ApplyOptions, who: string): Promise<void> {
  if (batch.length > 1 && (await applyBatch(target, batch, o))) return;
  // one by one: the statement that fails is named, and ifExists: skip keeps what exists
  for (const s of batch) await applyOne(target, s, o, who);
}

/** The second session, opened when first needed; one that cannot be opened leaves the work to the first. */
class SideSession {
  private c: Promise<pg.Client | undefined> | undefined;
  constructor(private readonly open: () => Promise<pg.Client>) {}

  get(): Promise<pg.Client | undefined> {
    this.c ??= this.open().catch(() => undefined);
    return this.c;
  }

  async close(): Promise<void> {
    const c = await this.c;
    await c?.end().catch(() => {});
  }
}

/**
 * Batches of independent tables taken in turn by all sessions. A failure on any stops all from
 * taking more; once all have stopped the first failure is thrown (a rerun, or the caller's retry,
 * finds done exactly the batches that committed). A side session is opened when there is a batch left for it.
 */
async function applyShared(
  target: pg.Client,
  sides: SideSession[],
  batches: Statement[][],
  o: ApplyOptions,
  who: string,
): Promise<void> {
  let failed = false;
  const work = async (c: pg.Client | undefined) => {
    if (!c) return;
    for (let b = batches.shift(); b && !failed; b = batches.shift()) {
      try {
        await applyBatchOrOne(c, b, o, who);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  const done = await Promise.allSettled([
    work(target),
    ...sides.map((side) => (batches.length ? side.get().then(work) : undefined)),
  ]);
  for (const d of done) if (d.status === 'rejected') throw d.reason;
}

/**
 * Many statements in one transaction with their checkpoint rows, sent as few multi-statement
 * queries. False (rolled back, nothing written) when any statement fails: the caller redoes the
 * batch one by one. Transient failures (a lost session) are thrown for the caller's retry.
 */
async function applyBatch(target: pg.Client, batch: Statement[], o: ApplyOptions): Promise<boolean> {
  const sql = new SqlBuffer(target);
  try {
    await target.query(`BEGIN; ${LOCAL_SETUP}`);
    for (const s of batch) {
      if (o.ifExists === 'drop' && s.drop) await sql.add(s.drop);
      await addParts(target, sql, s);
    }
    await sql.flush();
    await markObjectsDone(target, o.taskId, batch);
    await target.query('COMMIT');
  } catch (e) {
    await target.query('ROLLBACK').catch(() => {});
    if (isTransient(e)) throw e;
    return false;
  }
  for (const s of batch) {
    o.events.emit({ type: 'object', action: 'created', kind: s.kind, name: s.name, section: s.section });
  }
  return true;
}

/**
 * The parts of a block that must run, added to `sql`. A part ./skip.ts or ./acl-noop.ts compares
 * with the target's catalogs is checked after what comes before it has run.
 */
async function addParts(target: pg.Client, sql: SqlBuffer, s: Statement): Promise<void> {
  if (!MAY_BE_CHECKED.test(s.sql)) {
    await sql.add(s.sql);
    return;
  }
  const parts = await splitStatements(s.sql);
  if (!parts.some(checked)) {
    for (const part of parts) await sql.add(part.sql);
    return;
  }
  await sql.flush();
  const unchanged = await schemaAclNoop(target, parts);
  for (const part of parts) {
    if (unchanged.has(part) || (await alreadyEqual(target, part.ast))) continue;
    await target.query(part.sql);
  }
}

/**
 * Every statement checked() picks names a schema or an extension in its own words: a block without
 * either word is sent as it is, without being parsed (parsing a table's block cost about 0.5 ms of
 * CPU, and the parser's WebAssembly memory grows with the parse trees it builds).
 */
const MAY_BE_CHECKED = /schema|extension/i;

/** Statements ./skip.ts and ./acl-noop.ts may find already equal on the target (schemas, extensions). */
function checked(part: Part): boolean {
  const ast = part.ast;
  if (!ast) return false;
  const on = (n: { objtype?: string; objectType?: string } | undefined, ...kinds: string[]) =>
    n !== undefined && kinds.includes(n.objtype ?? n.objectType ?? '');
  return (
    ast.CreateSchemaStmt !== undefined ||
    on(ast.CommentStmt, 'OBJECT_SCHEMA', 'OBJECT_EXTENSION') ||
    on(ast.AlterOwnerStmt, 'OBJECT_SCHEMA') ||
    on(ast.GrantStmt, 'OBJECT_SCHEMA')
  );
}

/** SQL statements sent together as one simple query once about 256 kB have gathered. */
class SqlBuffer {
  private parts: string[] = [];
  private size = 0;
  constructor(private c: pg.Client) {}

  async add(sql: string): Promise<void> {
    this.parts.push(terminated(sql));
    this.size += sql.length;
    if (this.size > 256 * 1024) await this.flush();
  }

  async flush(): Promise<void> {
    if (!this.parts.length) return;
    const text = this.parts.join('\n');
    this.parts = [];
    this.size = 0;
    await this.c.query(text);
  }
}

/** One statement in its own transaction with its checkpoint row. */
async function applyOne(target: pg.Client, s: Statement, o: ApplyOptions, who: string): Promise<void> {
  await target.query('BEGIN');
  try {
    await target.query(LOCAL_SETUP);
    if (o.ifExists === 'drop' && s.drop) await target.query(s.drop);
    if (o.ifExists === 'skip') await target.query('SAVEPOINT pgferry_stmt');
    try {
      await runParts(target, s);
    } catch (failure) {
      const e = failure instanceof FailedPart ? failure.cause : failure;
      if (o.ifExists === 'skip' && isDuplicate(e)) {
        await target.query('ROLLBACK TO SAVEPOINT pgferry_stmt');
        o.events.warn(`${s.kind} ${s.name} already exists on the target; skipped (ifExists: skip)`);
      } else throw failure;
    }
    await markObjectDone(target, o.taskId, s.key, s.kind, s.section);
    await target.query('COMMIT');
    o.events.emit({ type: 'object', action: 'created', kind: s.kind, name: s.name, section: s.section });
  } catch (e) {
    await target.query('ROLLBACK').catch(() => {});
    o.events.emit({ type: 'object', action: 'failed', kind: s.kind, name: s.name, section: s.section });
    const [sql, cause] = e instanceof FailedPart ? [e.sql, e.cause] : [s.sql, e];
    throw statementError('schema', sql, cause, `${s.kind} ${s.name}`, who);
  }
}

/** Some CREATEs (text search dictionaries, …) do not check first and hit the catalog's unique index instead. */
function isDuplicate(e: unknown): boolean {
  return (
    isPgError(e) &&
    (DUPLICATE.has(e.code!) ||
      (e.code === '42P16' && /multiple primary keys/.test(e.message)) ||
      // an index build skipped as existing: its key (ADD CONSTRAINT … USING INDEX) exists too
      (e.code === '55000' && /is already associated with a constraint/.test(e.message)) ||
      (e.code === '23505' && /^pg_\w+_index$/.test((e as { constraint?: string }).constraint ?? '')))
  );
}

/** One statement of a block that failed: the block is reported by that statement alone. */
class FailedPart extends Error {
  constructor(
    readonly sql: string,
    override readonly cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

/** Runs a block statement by statement; statements on existing objects that change nothing are skipped. */
async function runParts(target: pg.Client, s: Statement): Promise<void> {
  const parts = await splitStatements(s.sql);
  const unchanged = await schemaAclNoop(target, parts);
  for (const part of parts) {
    try {
      if (unchanged.has(part) || (await alreadyEqual(target, part.ast))) continue;
      await target.query(part.sql);
    } catch (e) {
      throw new FailedPart(part.sql, e);
    }
  }
}

/** The whole DDL as one psql script: pre, then early, then late. */
export function toScript(stmts: Statement[]): string {
  const out = ['-- pgferry schema script: run with psql -v ON_ERROR_STOP=1', SESSION_SETUP.replace(/; /g, ';\n'), ''];
  for (const section of ['pre', 'early', 'late'] as const) {
    out.push(`-- ===== ${section} =====`, '');
    for (const s of stmts.filter((x) => x.section === section)) {
      out.push(`-- ${s.kind} ${s.name}${s.table ? ` (after data of ${s.table})` : ''}`, s.sql, '');
    }
  }
  return out.join('\n');
}

/**
 * Applying generated DDL to the target, one statement per transaction together with its
 * checkpoint row (so a rerun skips what is done), and the source-side convenience
 * readSourceSchema = introspect + generate.
 */
import type pg from 'pg';
import { introspect } from './catalog/introspect.js';
import type { SourceCatalog } from './catalog/model.js';
import { generateDdl, type GeneratedSchema } from './ddl/generate.js';
import type { Statement } from '../../core/statement.js';
import { isPgError } from '../../core/errors.js';
import { statementError } from '../../core/privilege-fix.js';
import { doneObjects, markObjectDone } from '../../state/checkpoint.js';
import type { EventBus } from '../../core/events.js';
import type { Selection } from '../../core/selection.js';
import { quoteIdent } from '../../core/ident.js';
import { schemaAclNoop } from './acl-noop.js';
import { alreadyEqual } from './skip.js';
import { splitStatements } from './split.js';

export type { GeneratedSchema } from './ddl/generate.js';

/** Session settings every DDL script needs (function bodies may refer to objects created later). */
export const SESSION_SETUP = `SET check_function_bodies = false; SET client_min_messages = warning; SELECT pg_catalog.set_config('search_path', '', false);`;

const LOCAL_SETUP = `SET LOCAL check_function_bodies = false; SELECT pg_catalog.set_config('search_path', '', true);`;

/** The one catalog read of a run (DDL model and facts), and the DDL generated from it. */
export async function readSourceSchema(
  source: pg.Client,
  sel: Selection,
): Promise<GeneratedSchema & { model: SourceCatalog }> {
  const model = await introspect(source);
  return { ...generateDdl(model, sel), model };
}

export interface ApplyOptions {
  taskId: string;
  events: EventBus;
  ifExists: 'error' | 'skip' | 'drop';
}

// duplicate_table, duplicate_object, duplicate_schema, duplicate_function, duplicate_alias?, duplicate_database
const DUPLICATE = new Set(['42P07', '42710', '42P06', '42723', '42712']);

export async function applyStatements(
  target: pg.Client,
  stmts: Statement[],
  o: ApplyOptions,
): Promise<{ created: number; skipped: number }> {
  const done = await doneObjects(target, o.taskId);
  const who = quoteIdent((await target.query<{ u: string }>('SELECT current_user AS u')).rows[0].u);
  let created = 0;
  let skipped = 0;
  for (const s of stmts) {
    if (done.has(s.key)) {
      skipped++;
      o.events.emit({ type: 'object', action: 'skipped', kind: s.kind, name: s.name, section: s.section });
      continue;
    }
    await target.query('BEGIN');
    try {
      await target.query(LOCAL_SETUP);
      if (o.ifExists === 'drop' && s.drop) await target.query(s.drop);
      if (o.ifExists === 'skip') await target.query('SAVEPOINT pgferry_stmt');
      try {
        await runParts(target, s);
      } catch (failure) {
        const e = failure instanceof FailedPart ? failure.cause : failure;
        // Some CREATEs (text search dictionaries, …) do not check first and hit the catalog's unique index instead.
        const dup =
          isPgError(e) &&
          (DUPLICATE.has(e.code!) ||
            (e.code === '42P16' && /multiple primary keys/.test(e.message)) ||
            // an index build skipped as existing: its key (ADD CONSTRAINT … USING INDEX) exists too
            (e.code === '55000' && /is already associated with a constraint/.test(e.message)) ||
            (e.code === '23505' && /^pg_\w+_index$/.test((e as { constraint?: string }).constraint ?? '')));
        if (o.ifExists === 'skip' && dup) {
          await target.query('ROLLBACK TO SAVEPOINT pgferry_stmt');
          o.events.warn(`${s.kind} ${s.name} already exists on the target; skipped (ifExists: skip)`);
        } else throw failure;
      }
      await markObjectDone(target, o.taskId, s.key, s.kind, s.section);
      await target.query('COMMIT');
      created++;
      done.add(s.key);
      o.events.emit({ type: 'object', action: 'created', kind: s.kind, name: s.name, section: s.section });
    } catch (e) {
      await target.query('ROLLBACK').catch(() => {});
      o.events.emit({ type: 'object', action: 'failed', kind: s.kind, name: s.name, section: s.section });
      const [sql, cause] = e instanceof FailedPart ? [e.sql, e.cause] : [s.sql, e];
      throw statementError('schema', sql, cause, `${s.kind} ${s.name}`, who);
    }
  }
  return { created, skipped };
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

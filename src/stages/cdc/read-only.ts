/**
 * `pgferry cutover --read-only`: the selected source tables refuse writes for the cutover.
 *
 * Mechanism: a BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE statement trigger on each selected
 * table (and on its partition and inheritance ancestors, so that a write routed through a parent is
 * refused too), calling one small plpgsql function per schema that raises SQLSTATE 25006
 * (read_only_sql_transaction). Why triggers rather than the alternatives:
 *  - REVOKE of INSERT/UPDATE/DELETE/TRUNCATE does not stop the tables' owner (applications often
 *    write as the owner) nor superusers, and undoing it means restoring every ACL exactly;
 *  - ALTER DATABASE … SET default_transaction_read_only needs the database owner, stops the whole
 *    database rather than the selected tables, any session can turn it off again, and sessions
 *    already connected must be ended first;
 *  - a trigger stops every writer of exactly the selected tables, the owner and superusers included,
 *    needs only ownership of the tables (or the TRIGGER privilege) and CREATE on their schemas, and is
 *    undone exactly by dropping it. It survives a crash of pgferry, so a cutover run again finds it.
 * The triggers are created in one transaction: CREATE TRIGGER waits for the transactions writing to
 * the table, so once it commits every earlier write is committed and every later one is refused.
 * A session with session_replication_role = replica (a replication apply) is not stopped.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { isPgError, PgferryError } from '../../core/errors.js';
import { qualify, quoteIdent, quoteLiteral } from '../../core/ident.js';
import type { CopyTable } from '../data/plan/types.js';

/** The trigger and function name of a task (one name: one task's read-only never touches another's). */
export function readOnlyName(taskId: string): string {
  return `pgferry_read_only_${createHash('sha256').update(taskId).digest('hex').slice(0, 12)}`;
}

/** The command that lifts it, as printed to the user. */
export const undoCommand = (taskId: string): string => `pgferry cutover ${taskId} --undo-read-only -s SOURCE -t TARGET`;

interface RawRelation {
  schema: string;
  name: string;
  has: boolean;
}

/** The tables and their ancestors (partitioned parents, inheritance parents), with whether the trigger is there. */
async function relationsToGuard(c: pg.Client, tables: CopyTable[], name: string): Promise<RawRelation[]> {
  const names = tables.map((t) => qualify(t.source.schema, t.source.name));
  const r = await c.query<RawRelation>(
    `WITH RECURSIVE up(oid) AS (
       SELECT to_regclass(x)::oid FROM unnest($1::text[]) x
       UNION SELECT i.inhparent FROM pg_catalog.pg_inherits i JOIN up ON i.inhrelid = up.oid)
     SELECT n.nspname AS schema, k.relname AS name,
            EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t WHERE t.tgrelid = k.oid AND t.tgname = $2) AS has
       FROM up JOIN pg_catalog.pg_class k ON k.oid = up.oid JOIN pg_catalog.pg_namespace n ON n.oid = k.relnamespace
      WHERE k.relkind IN ('r', 'p') ORDER BY 1, 2`,
    [names, name],
  );
  return r.rows;
}

function functionSql(schema: string, name: string, taskId: string): string {
  const hint = `writes come back when the cutover is undone: ${undoCommand(taskId)}`;
  return `CREATE FUNCTION ${qualify(schema, name)}() RETURNS trigger LANGUAGE plpgsql AS $pgferry$
BEGIN
  RAISE EXCEPTION USING ERRCODE = '25006',
    MESSAGE = format('table %I.%I is read-only: pgferry task %s is cutting over to its target', TG_TABLE_SCHEMA, TG_TABLE_NAME, ${quoteLiteral(taskId)}),
    HINT = ${quoteLiteral(hint)};
END
$pgferry$`;
}

function refused(e: unknown, what: string): unknown {
  if (!isPgError(e) || !['42501', '55P03', '40P01'].includes(e.code)) return e;
  const hint =
    e.code === '42501'
      ? 'the source account must own the selected tables (or hold the TRIGGER privilege on them) and have CREATE on their schemas; grant that, or stop the writes yourself and run cutover without --read-only'
      : 'a long transaction writes to the tables: let it end (or end it), then run cutover again';
  return new PgferryError('state', `cannot make the source tables read-only (${what}): ${e.message}`, {
    hint,
    cause: e,
  });
}

/** One attempt: the functions and triggers in one transaction, each lock waited for at most `lockWaitMs`. */
async function createTriggers(c: pg.Client, taskId: string, rels: RawRelation[], lockWaitMs: number): Promise<void> {
  const name = readOnlyName(taskId);
  await c.query('BEGIN');
  try {
    await c.query(`SET LOCAL lock_timeout = '${lockWaitMs}ms'`);
    for (const schema of new Set(rels.map((r) => r.schema))) {
      const exists = await c.query(
        `SELECT 1 FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
          WHERE n.nspname = $1 AND p.proname = $2`,
        [schema, name],
      );
      if (!exists.rowCount) await c.query(functionSql(schema, name, taskId));
    }
    for (const r of rels) {
      if (r.has) continue;
      await c.query(
        `CREATE TRIGGER ${quoteIdent(name)} BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${qualify(r.schema, r.name)}
           FOR EACH STATEMENT EXECUTE PROCEDURE ${qualify(r.schema, name)}()`,
      );
    }
    await c.query('COMMIT');
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  }
}

/**
 * Make the tables read-only (idempotent); returns the guarded relations, schema.name quoted. The
 * triggers' locks meet the application's transactions, which take the same tables in any order. So
 * each lock is waited for less than half the server's deadlock_timeout: pgferry gives way before a
 * deadlock check could run in any session (the application never sees a deadlock error from it),
 * and tries again, for up to `lockTimeoutSec` in all.
 */
export async function setReadOnly(
  c: pg.Client,
  taskId: string,
  tables: CopyTable[],
  lockTimeoutSec = 60,
): Promise<string[]> {
  const deadline = Date.now() + lockTimeoutSec * 1000;
  const dl = await c.query<{ ms: string }>(
    `SELECT setting AS ms FROM pg_catalog.pg_settings WHERE name = 'deadlock_timeout'`,
  );
  const lockWaitMs = Math.max(10, Math.min(500, Math.floor(Number(dl.rows[0]?.ms ?? 1000) / 2)));
  for (let attempt = 1; ; attempt++) {
    const rels = await relationsToGuard(c, tables, readOnlyName(taskId));
    try {
      await createTriggers(c, taskId, rels, lockWaitMs);
      return rels.map((r) => qualify(r.schema, r.name));
    } catch (e) {
      const busy = isPgError(e) && (e.code === '40P01' || e.code === '55P03');
      if (!busy || Date.now() > deadline) throw refused(e, `creating the triggers, attempt ${attempt}`);
      await sleep(Math.min(1_000, 20 * 2 ** attempt));
    }
  }
}

/** The relations the task's read-only triggers guard now (wherever they are). */
export async function readOnlyTables(c: pg.Client, taskId: string): Promise<string[]> {
  const r = await c.query<{ schema: string; name: string }>(
    `SELECT n.nspname AS schema, k.relname AS name FROM pg_catalog.pg_trigger t
       JOIN pg_catalog.pg_class k ON k.oid = t.tgrelid JOIN pg_catalog.pg_namespace n ON n.oid = k.relnamespace
      WHERE t.tgname = $1 ORDER BY 1, 2`,
    [readOnlyName(taskId)],
  );
  return r.rows.map((x) => qualify(x.schema, x.name));
}

/** The SQL that lifts the read-only by hand (what `--undo-read-only` runs). */
export async function undoSql(c: pg.Client, taskId: string): Promise<string[]> {
  const name = readOnlyName(taskId);
  const fns = await c.query<{ schema: string }>(
    `SELECT n.nspname AS schema FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
      WHERE p.proname = $1 ORDER BY 1`,
    [name],
  );
  return [
    ...(await readOnlyTables(c, taskId)).map((t) => `DROP TRIGGER IF EXISTS ${quoteIdent(name)} ON ${t};`),
    ...fns.rows.map((f) => `DROP FUNCTION IF EXISTS ${qualify(f.schema, name)}();`),
  ];
}

/** Lift the read-only (idempotent); returns the relations that accept writes again. */
export async function undoReadOnly(c: pg.Client, taskId: string): Promise<string[]> {
  const tables = await readOnlyTables(c, taskId);
  const statements = await undoSql(c, taskId);
  await c.query('BEGIN');
  try {
    for (const s of statements) await c.query(s);
    await c.query('COMMIT');
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw refused(e, 'dropping the triggers');
  }
  return tables;
}

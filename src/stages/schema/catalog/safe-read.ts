/**
 * Reading catalog rows that call the server's deparsers (pg_get_viewdef, pg_get_indexdef,
 * pg_get_constraintdef, pg_get_partkeydef, …). One object can make such a function fail for the
 * whole query (PostgreSQL 12 overflows its stack deparsing a partition key that reads the table's
 * own row type). The bulk query runs first; when it fails, the rows are read one object at a time
 * and each object that still fails is returned as unreadable, with the server's message, so
 * that everything else is migrated.
 */
import type pg from 'pg';
import { isPgError } from '../../../core/errors.js';
import type { NotMigrated } from './model.js';

type Row = Record<string, any>;

export interface Unreadable extends NotMigrated {
  id: string;
  schema: string | null;
}

export interface SafeReader {
  /** Rows of `sql` (every row has an `oid` column of catalog `catalog`); `prefix` makes graph ids. */
  rows(sql: string, catalog: string, prefix: string): Promise<Row[]>;
  readonly unreadable: Unreadable[];
}

export async function safeReader(c: pg.Client): Promise<SafeReader> {
  const inTx = await inTransaction(c);
  const unreadable: Unreadable[] = [];
  const attempt = async (sql: string, params: unknown[] = []): Promise<Row[] | Error> => {
    if (inTx) await c.query('SAVEPOINT pgferry_catalog_read');
    try {
      const r = (await c.query(sql, params)).rows;
      if (inTx) await c.query('RELEASE SAVEPOINT pgferry_catalog_read');
      return r;
    } catch (e) {
      if (!isPgError(e)) throw e;
      if (inTx) await c.query('ROLLBACK TO SAVEPOINT pgferry_catalog_read; RELEASE SAVEPOINT pgferry_catalog_read');
      return e as Error;
    }
  };
  return {
    unreadable,
    async rows(sql, catalog, prefix) {
      const bulk = await attempt(sql);
      if (!(bulk instanceof Error)) return bulk;
      const body = sql.replace(/\sORDER BY [^\n]*\s*$/, '');
      const oids = await attempt(`SELECT x.oid FROM (${body}) x`);
      if (oids instanceof Error) throw oids;
      const out: Row[] = [];
      for (const { oid } of oids) {
        const one = await attempt(`SELECT * FROM (${body}) x WHERE x.oid = $1`, [oid]);
        if (!(one instanceof Error)) {
          out.push(...one);
          continue;
        }
        type Described = { kind: string; name: string; schema: string | null };
        const d = await c.query<Described>(DESCRIBE_SQL, [catalog, oid, String(oid)]);
        const { kind, name, schema } = d.rows[0] ?? { kind: catalog, name: oid, schema: null };
        unreadable.push({ id: `${prefix}:${oid}`, kind, name, schema, reason: unreadableReason(e2msg(one)) });
      }
      return out;
    },
  };
}

const DESCRIBE_SQL = `
SELECT coalesce(o.type, 'object') AS kind, coalesce(o.identity, $3) AS name, o.schema
FROM pg_catalog.pg_identify_object($1::pg_catalog.regclass, $2::pg_catalog.oid, 0) o`;

function e2msg(e: Error): string {
  const code = (e as { code?: string }).code;
  return code ? `${e.message} (SQLSTATE ${code})` : e.message;
}

function unreadableReason(message: string): string {
  return (
    `the source server fails printing its definition: ${message}; create it on the target yourself ` +
    '(what depends on it is not migrated either)'
  );
}

/** Is the session inside a transaction block? (SAVEPOINT fails outside one with 25P01.) */
async function inTransaction(c: pg.Client): Promise<boolean> {
  try {
    await c.query('SAVEPOINT pgferry_probe');
  } catch (e) {
    if (isPgError(e) && (e as { code?: string }).code === '25P01') return false;
    throw e;
  }
  await c.query('RELEASE SAVEPOINT pgferry_probe');
  return true;
}

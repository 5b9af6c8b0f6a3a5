import pg from 'pg';
import type { CopyTable } from '../../src/plan/types.js';
import { tableKey } from '../../src/task/selection.js';
import type { Statement } from '../../src/ddl/statement.js';

export async function sql(url: string, text: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: url, application_name: 'test' });
  await c.connect();
  try {
    return await c.query(text, params);
  } finally {
    await c.end();
  }
}

/** Count and order-independent hash of the listed columns of a table. */
export async function tableDigest(url: string, table: string, cols = '*'): Promise<{ n: string; h: string }> {
  const r = await sql(url, `SELECT count(*)::text AS n, coalesce(md5(string_agg(x, '' ORDER BY x)), '') AS h FROM (SELECT md5(${cols === "*" ? "t" : `ROW(${cols})`}::text) AS x FROM ${table} t) s`);
  return r.rows[0];
}

export function copyTable(schema: string, name: string, cols: { name: string; type: string; target?: string }[], hasPrimaryKey: boolean, extra: Partial<CopyTable> = {}): CopyTable {
  return {
    key: tableKey(schema, name),
    source: { schema, name },
    target: { schema, name },
    columns: cols.map((c) => ({ source: c.name, target: c.target ?? c.name, type: c.type })),
    hasPrimaryKey,
    ...extra,
  };
}

export function early(table: CopyTable, key: string, sqlText: string, kind = 'index'): Statement {
  return { key, kind, name: key, section: 'early', sql: sqlText, table: table.key };
}

export const copyDefaults = {
  splitThresholdMB: 256,
  unitMB: 128,
  format: 'auto' as const,
  maxRowsPerSec: null,
  maxBytesPerSec: null,
  retryTimeSec: 60,
};

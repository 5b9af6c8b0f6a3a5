/**
 * The object picker's catalog: the user schemas of a database with their tables (ordinary,
 * partitioned, foreign, materialized views), size estimates and columns. Raw rows as the query
 * returns them, then grouped into the API's shape.
 */
import type pg from 'pg';

/** One row per column (a table without columns gets one row with a null column). */
interface CatalogRow {
  schema: string;
  table: string;
  relkind: string;
  row_estimate: string;
  bytes: string;
  column: string | null;
  type: string | null;
  nullable: boolean | null;
}

export interface CatalogTable {
  name: string;
  kind: string;
  rowEstimate: number;
  bytes: number;
  columns: { name: string; type: string; nullable: boolean }[];
}

export interface CatalogSchema {
  name: string;
  tables: CatalogTable[];
}

const KINDS: Record<string, string> = {
  r: 'table',
  p: 'partitioned table',
  f: 'foreign table',
  m: 'materialized view',
};

// reltuples is -1 for a table never vacuumed or analyzed (PostgreSQL 14+): shown as 0.
const SQL = `
SELECT n.nspname AS schema, c.relname AS table, c.relkind::text AS relkind,
       greatest(c.reltuples, 0)::bigint::text AS row_estimate,
       pg_total_relation_size(c.oid)::text AS bytes,
       a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type, NOT a.attnotnull AS nullable
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE c.relkind = ANY ($1::"char"[])
   AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
 ORDER BY n.nspname, c.relname, a.attnum`;

export async function readCatalog(c: pg.Client): Promise<CatalogSchema[]> {
  const { rows } = await c.query<CatalogRow>(SQL, [Object.keys(KINDS)]);
  const schemas = new Map<string, Map<string, CatalogTable>>();
  for (const r of rows) {
    let tables = schemas.get(r.schema);
    if (!tables) schemas.set(r.schema, (tables = new Map()));
    let t = tables.get(r.table);
    if (!t) {
      t = {
        name: r.table,
        kind: KINDS[r.relkind],
        rowEstimate: Number(r.row_estimate),
        bytes: Number(r.bytes),
        columns: [],
      };
      tables.set(r.table, t);
    }
    if (r.column !== null) t.columns.push({ name: r.column, type: r.type ?? '', nullable: r.nullable === true });
  }
  return [...schemas].map(([name, tables]) => ({ name, tables: [...tables.values()] }));
}

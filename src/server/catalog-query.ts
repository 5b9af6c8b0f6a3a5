/**
 * The object picker's catalog: the user schemas of a database with their tables (ordinary,
 * partitioned, foreign, materialized views), size estimates and columns. Raw rows as the query
 * returns them, then grouped into the API's shape.
 */
import type pg from 'pg';
import { estimatedRows, SIZE_COLUMNS, type SizeRow } from '../stages/data/plan/row-estimate.js';

/** One row per column (a table without columns gets one row with a null column). */
interface CatalogRow extends SizeRow {
  schema: string;
  table: string;
  relkind: string;
  bytes: string;
  column: string | null;
  type: string | null;
  nullable: boolean | null;
  oid: number;
  /** A partition's partitioned ancestors (oids as text), nearest first; empty for others. */
  ancestors: string[];
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

/**
 * A relation whose size cannot be read without waiting: pg_relation_size and pg_total_relation_size
 * take ACCESS SHARE locks on the table, its TOAST table and its indexes, which wait behind an ACCESS
 * EXCLUSIVE lock held or queued by the application (ALTER TABLE, VACUUM FULL, REINDEX, LOCK TABLE).
 * pg_locks shows every session's locks to every role.
 */
const LOCKED = (c: string) => `EXISTS (SELECT 1 FROM pg_locks l
      WHERE l.locktype = 'relation' AND l.mode = 'AccessExclusiveLock'
        AND l.database = (SELECT oid FROM pg_database WHERE datname = pg_catalog.current_database())
        AND (l.relation = ${c}.oid OR l.relation = ${c}.reltoastrelid
             OR l.relation IN (SELECT indexrelid FROM pg_index WHERE indrelid = ${c}.oid)))`;

/** Pages as of the last VACUUM/ANALYZE, in bytes: what the catalog knows of a locked table's size. */
const CATALOG_BYTES = (c: string) => `${c}.relpages::int8 * pg_catalog.current_setting('block_size')::int8`;

// Row estimates as the copy's progress totals make them (row-estimate.ts): reltuples, or for a table
// never analyzed (reltuples -1 on PostgreSQL 14+, 0 before) a guess from its size. A locked table's sizes
// come from the catalog (no lock taken, see LOCKED). A partitioned table holds no rows itself: its
// estimate and size are its partitions' (each partition names its ancestors, pg_partition_ancestors).
const SQL = `
WITH k AS (
  SELECT c.*, ${LOCKED('c')} AS locked
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind = ANY ($1::"char"[])
     AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
     AND NOT EXISTS (SELECT 1 FROM pg_depend d
                      WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')),
t AS (
  SELECT c.oid, n.nspname AS schema, c.relname AS table, c.relkind::text AS relkind,
         (CASE WHEN c.locked THEN ${CATALOG_BYTES('c')} ELSE pg_catalog.pg_total_relation_size(c.oid) END)::text AS bytes,
         ${SIZE_COLUMNS('c', `CASE WHEN c.locked THEN ${CATALOG_BYTES('c')} ELSE pg_catalog.pg_relation_size(c.oid) END`)},
         CASE WHEN c.relispartition
              THEN ARRAY(SELECT p.relid::oid::text FROM pg_catalog.pg_partition_ancestors(c.oid) p WHERE p.relid <> c.oid)
              ELSE '{}'::text[] END AS ancestors
    FROM k c
    JOIN pg_namespace n ON n.oid = c.relnamespace)
SELECT t.*, a.attname AS column, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, NOT a.attnotnull AS nullable
  FROM t
  LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY t.schema, t.table, a.attnum`;

export async function readCatalog(c: pg.Client): Promise<CatalogSchema[]> {
  // should a lock come between the look at pg_locks and the size read, fail soon rather than wait
  await c.query(`SET lock_timeout = '5s'`);
  const { rows } = await c.query<CatalogRow>(SQL, [Object.keys(KINDS)]);
  const schemas = new Map<string, Map<string, CatalogTable>>();
  const byOid = new Map<string, CatalogTable>();
  const partitions: { t: CatalogTable; ancestors: string[] }[] = [];
  for (const r of rows) {
    let tables = schemas.get(r.schema);
    if (!tables) schemas.set(r.schema, (tables = new Map()));
    let t = tables.get(r.table);
    if (!t) {
      t = {
        name: r.table,
        kind: KINDS[r.relkind],
        // a partitioned table's: its partitions' (added below), not its own statistics (ANALYZE sets them too)
        rowEstimate: r.relkind === 'p' ? 0 : estimatedRows(r),
        bytes: Number(r.bytes),
        columns: [],
      };
      tables.set(r.table, t);
      byOid.set(String(r.oid), t);
      if (r.relkind !== 'p' && r.ancestors.length) partitions.push({ t, ancestors: r.ancestors });
    }
    if (r.column !== null) t.columns.push({ name: r.column, type: r.type ?? '', nullable: r.nullable === true });
  }
  for (const { t, ancestors } of partitions) {
    for (const a of ancestors) {
      const parent = byOid.get(a);
      if (!parent || parent.kind !== KINDS.p) continue;
      parent.rowEstimate += t.rowEstimate;
      parent.bytes += t.bytes;
    }
  }
  return [...schemas].map(([name, tables]) => ({ name, tables: [...tables.values()] }));
}

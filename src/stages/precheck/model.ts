/**
 * Catalog facts about the selected source objects, read once and shared by the checks.
 * Selection decisions go through `Selection` only (the same rule as plan/tables.ts: a
 * partition is selected with its root table).
 */
import type pg from 'pg';
import type { Selection } from '../../core/selection.js';
import { tableKey } from '../../core/selection.js';
import type { QualifiedName } from '../../core/qualified-name.js';
import { notExt, PARTITION_ROOT_JOIN, USER_NS } from '../schema/catalog/sql/common.js';

export interface SrcColumn {
  name: string;
  num: number;
  type: string;
  typeSchema: string;
  typeName: string;
  notNull: boolean;
  hasDefault: boolean;
  identity: boolean;
  generated: boolean;
  collSchema: string | null;
  collName: string | null;
}

export interface SrcTable {
  oid: string;
  schema: string;
  name: string;
  /** 'r' ordinary table or partition leaf, 'p' partitioned table */
  kind: 'r' | 'p';
  key: string;
  target: QualifiedName;
  owner: string;
  acl: string[] | null;
  hasKey: boolean;
  pkColumns: string[];
  bytes: number;
  tablespace: string | null;
  columns: SrcColumn[];
}

export interface SrcSchema {
  name: string;
  owner: string;
  acl: string[] | null;
}

export interface SrcSequence {
  oid: string;
  schema: string;
  name: string;
  owner: string;
  acl: string[] | null;
}

export interface SourceModel {
  user: string;
  superuser: boolean;
  database: string;
  schemas: SrcSchema[];
  tables: SrcTable[];
  sequences: SrcSequence[];
  /** Every non-system schema on the source, selected or not. */
  allSchemas: string[];
}

const TABLES_SQL = `
SELECT c.oid::int8::text AS oid, n.nspname AS schema, c.relname AS name, c.relkind::text AS kind,
       coalesce((to_jsonb(c) ->> 'relispartition')::bool, false) AS is_partition,
       root.nspname AS root_schema, root.relname AS root_name,
       pg_get_userbyid(c.relowner) AS owner, c.relacl::text[] AS acl,
       EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND (i.indisprimary OR (i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
               AND NOT EXISTS (SELECT 1 FROM pg_attribute a2 WHERE a2.attrelid = c.oid AND a2.attnum = ANY (i.indkey) AND NOT a2.attnotnull)))) AS has_key,
       coalesce((SELECT array_agg(a.attname ORDER BY a.attnum) FROM pg_constraint k JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey)
                 WHERE k.conrelid = c.oid AND k.contype = 'p'), '{}') AS pk_columns,
       CASE WHEN c.relkind = 'r' THEN pg_total_relation_size(c.oid) ELSE 0 END::int8::text AS bytes,
       ts.spcname AS tablespace
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_tablespace ts ON ts.oid = c.reltablespace
${PARTITION_ROOT_JOIN}
WHERE c.relkind IN ('r', 'p') AND ${USER_NS} AND ${notExt('pg_class', 'c.oid')}
ORDER BY 2, 3`;

const COLUMNS_SQL = `
SELECT a.attrelid::int8::text AS rel, a.attname AS name, a.attnum AS num, format_type(a.atttypid, a.atttypmod) AS type,
       tn.nspname AS type_schema, t.typname AS type_name, a.attnotnull AS not_null, a.atthasdef AS has_default,
       coalesce(to_jsonb(a) ->> 'attidentity', '') <> '' AS identity,
       coalesce(to_jsonb(a) ->> 'attgenerated', '') <> '' AS generated,
       cn.nspname AS coll_schema, co.collname AS coll_name
FROM pg_attribute a
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_namespace tn ON tn.oid = t.typnamespace
LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> 0
LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
WHERE a.attrelid = ANY ($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum`;

const SEQUENCES_SQL = `
SELECT c.oid::int8::text AS oid, n.nspname AS schema, c.relname AS name, pg_get_userbyid(c.relowner) AS owner, c.relacl::text[] AS acl,
       tn.nspname AS owned_schema, tc.relname AS owned_table
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
LEFT JOIN pg_class tc ON tc.oid = d.refobjid
LEFT JOIN pg_namespace tn ON tn.oid = tc.relnamespace
WHERE c.relkind = 'S' AND ${USER_NS} AND ${notExt('pg_class', 'c.oid')}
ORDER BY 2, 3`;

const SCHEMAS_SQL = `
SELECT n.nspname AS name, pg_get_userbyid(n.nspowner) AS owner, n.nspacl::text[] AS acl
FROM pg_namespace n WHERE ${USER_NS} AND ${notExt('pg_namespace', 'n.oid')} ORDER BY 1`;

interface TableRow {
  oid: string;
  schema: string;
  name: string;
  kind: 'r' | 'p';
  is_partition: boolean;
  root_schema: string | null;
  root_name: string | null;
  owner: string;
  acl: string[] | null;
  has_key: boolean;
  pk_columns: string[];
  bytes: string;
  tablespace: string | null;
}

/** The partition rule of plan/tables.ts: a partition goes with its selected root. */
export function relationSelected(
  sel: Selection,
  r: { schema: string; name: string; is_partition: boolean; root_schema: string | null; root_name: string | null },
): boolean {
  return (
    sel.tableSelected(r.schema, r.name) ||
    (r.is_partition &&
      r.root_schema !== null &&
      sel.tableSelected(r.root_schema, r.root_name!) &&
      sel.schemaSelected(r.schema))
  );
}

export async function loadSourceModel(c: pg.Client, sel: Selection): Promise<SourceModel> {
  const who = await c.query<{ u: string; su: boolean; db: string }>(
    `SELECT current_user AS u, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS su, current_database() AS db`,
  );
  const schemasAll = (await c.query<SrcSchema>(SCHEMAS_SQL)).rows;
  const rows = (await c.query<TableRow>(TABLES_SQL)).rows.filter((r) => relationSelected(sel, r));
  const tables: SrcTable[] = rows.map((r) => ({
    oid: r.oid,
    schema: r.schema,
    name: r.name,
    kind: r.kind,
    key: tableKey(r.schema, r.name),
    target: sel.targetTable(r.schema, r.name),
    owner: r.owner,
    acl: r.acl,
    hasKey: r.has_key,
    pkColumns: r.pk_columns,
    bytes: Number(r.bytes),
    tablespace: r.tablespace,
    columns: [],
  }));
  const byOid = new Map(tables.map((t) => [t.oid, t]));
  if (tables.length) {
    const cols = await c.query<{
      rel: string;
      name: string;
      num: number;
      type: string;
      type_schema: string;
      type_name: string;
      not_null: boolean;
      has_default: boolean;
      identity: boolean;
      generated: boolean;
      coll_schema: string | null;
      coll_name: string | null;
    }>(COLUMNS_SQL, [tables.map((t) => t.oid)]);
    for (const r of cols.rows) {
      byOid.get(r.rel)?.columns.push({
        name: r.name,
        num: r.num,
        type: r.type,
        typeSchema: r.type_schema,
        typeName: r.type_name,
        notNull: r.not_null,
        hasDefault: r.has_default,
        identity: r.identity,
        generated: r.generated,
        collSchema: r.coll_schema,
        collName: r.coll_name,
      });
    }
  }
  const selectedKeys = new Set(tables.map((t) => t.key));
  const seqRows = (
    await c.query<SrcSequence & { owned_schema: string | null; owned_table: string | null }>(SEQUENCES_SQL)
  ).rows;
  const sequences = seqRows
    .filter(
      (s) =>
        sel.schemaSelected(s.schema) &&
        (s.owned_table === null || selectedKeys.has(tableKey(s.owned_schema!, s.owned_table))),
    )
    .map(({ oid, schema, name, owner, acl }) => ({ oid, schema, name, owner, acl }));
  return {
    user: who.rows[0].u,
    superuser: who.rows[0].su === true,
    database: who.rows[0].db,
    schemas: schemasAll.filter((s) => sel.schemaSelected(s.name)),
    tables,
    sequences,
    allSchemas: schemasAll.map((s) => s.name),
  };
}

/** Parse an aclitem text (`grantee=privs/grantor`) into its grantee ('' is PUBLIC). */
export function aclGrantee(item: string): string {
  // grantee may be quoted: "my role"=r/owner
  let i = 0;
  let name = '';
  if (item.startsWith('"')) {
    i = 1;
    while (i < item.length) {
      if (item[i] === '"') {
        if (item[i + 1] === '"') {
          name += '"';
          i += 2;
          continue;
        }
        break;
      }
      name += item[i++];
    }
    return name;
  }
  const eq = item.indexOf('=');
  return eq < 0 ? item : item.slice(0, eq);
}

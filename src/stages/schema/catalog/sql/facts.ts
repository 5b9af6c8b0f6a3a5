/**
 * Facts about the source's relations read with the catalog, from which the precheck's items and
 * the data stage's copy list and sequences derive. Read with the session's search_path, which is empty
 * for every session pgferry opens: type names outside pg_catalog print schema-qualified.
 */
import { notExt, PARTITION_ROOT_JOIN, USER_NS } from './common.js';

export const WHO_SQL = `
SELECT current_user AS u, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS su, current_database() AS db`;

export const FACT_SCHEMAS_SQL = `
SELECT n.nspname AS name, pg_get_userbyid(n.nspowner) AS owner, n.nspacl::text[] AS acl
FROM pg_namespace n WHERE ${USER_NS} AND ${notExt('pg_namespace', 'n.oid')} ORDER BY 1`;

// relispartition exists on every supported version (10+): read directly, not through to_jsonb(c) (a
// whole pg_class row made JSON, which cost seconds at thousands of tables).
export const FACT_RELATIONS_SQL = `
SELECT c.oid::int8::text AS oid, n.nspname AS schema, c.relname AS name, c.relkind::text AS kind,
       c.relispartition AS is_partition,
       root.nspname AS root_schema, root.relname AS root_name,
       pg_get_userbyid(c.relowner) AS owner, c.relacl::text[] AS acl,
       EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND (i.indisprimary OR (i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
               AND NOT EXISTS (SELECT 1 FROM pg_attribute a2 WHERE a2.attrelid = c.oid AND a2.attnum = ANY (i.indkey) AND NOT a2.attnotnull)))) AS has_key,
       coalesce((SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_constraint k JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey)
                 WHERE k.conrelid = c.oid AND k.contype = 'p'), '{}'::text[]) AS pk_columns,
       CASE WHEN c.relkind = 'r' THEN pg_catalog.pg_total_relation_size(c.oid) ELSE 0 END::int8::text AS bytes,
       ts.spcname AS tablespace
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_tablespace ts ON ts.oid = c.reltablespace
${PARTITION_ROOT_JOIN}
WHERE c.relkind IN ('r', 'p') AND ${USER_NS} AND ${notExt('pg_class', 'c.oid')}
ORDER BY 2, 3`;

// attidentity (10+) directly; attgenerated (12+) through to_jsonb so the same text runs on 10 and 11.
export const FACT_COLUMNS_SQL = `
SELECT a.attrelid::int8::text AS rel, a.attname AS name, a.attnum AS num, format_type(a.atttypid, a.atttypmod) AS type,
       tn.nspname AS type_schema, t.typname AS type_name, a.attnotnull AS not_null, a.atthasdef AS has_default,
       a.attidentity <> '' AS identity,
       coalesce(to_jsonb(a) ->> 'attgenerated', '') <> '' AS generated,
       cn.nspname AS coll_schema, co.collname AS coll_name
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_namespace tn ON tn.oid = t.typnamespace
LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> 0
LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
WHERE c.relkind IN ('r', 'p') AND ${USER_NS} AND ${notExt('pg_class', 'c.oid')} AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum`;

export const FACT_SEQUENCES_SQL = `
SELECT c.oid::int8::text AS oid, n.nspname AS schema, c.relname AS name, pg_get_userbyid(c.relowner) AS owner, c.relacl::text[] AS acl,
       tn.nspname AS owned_schema, tc.relname AS owned_table
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
LEFT JOIN pg_class tc ON tc.oid = d.refobjid
LEFT JOIN pg_namespace tn ON tn.oid = tc.relnamespace
WHERE c.relkind = 'S' AND ${USER_NS} AND ${notExt('pg_class', 'c.oid')}
ORDER BY 2, 3`;

import { USER_NS, aclJson, collJson, notExt, commentOf, columnCommentOf } from './common.js';

// attgenerated (12+) through to_jsonb so the text runs on 10..17; relispartition, attidentity (10+),
// relam and attstattarget (every version) directly: to_jsonb of whole catalog rows cost seconds at
// thousands of tables.
export const TABLES_SQL = `
SELECT c.oid::int8::text AS oid, n.nspname AS schema, c.relname AS name, c.relkind::text AS relkind,
       c.relpersistence = 'u' AS unlogged, c.reloptions AS options,
       pg_catalog.pg_get_userbyid(c.relowner) AS owner, ${commentOf('c.oid', 'pg_class')} AS comment,
       ${aclJson('c.relacl')} AS acl, c.relrowsecurity AS rls, c.relforcerowsecurity AS force_rls,
       CASE WHEN c.relkind = 'p' THEN pg_catalog.pg_get_partkeydef(c.oid) END AS part_key,
       CASE WHEN c.relispartition THEN pg_catalog.pg_get_expr(c.relpartbound, c.oid) END AS part_bound,
       c.relispartition AS is_partition,
       (SELECT am.amname FROM pg_catalog.pg_am am WHERE am.oid = c.relam) AS access_method,
       (SELECT coalesce(json_agg(json_build_object('oid', i.inhparent::int8::text, 'schema', pn.nspname, 'name', pc.relname) ORDER BY i.inhseqno), '[]')
          FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class pc ON pc.oid = i.inhparent JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace
         WHERE i.inhrelid = c.oid) AS parents,
       (SELECT coalesce(json_agg(json_build_object(
                 'num', a.attnum, 'name', a.attname, 'type', pg_catalog.format_type(a.atttypid, a.atttypmod), 'notNull', a.attnotnull,
                 'default', pg_catalog.pg_get_expr(ad.adbin, ad.adrelid),
                 'defaultHasFuncDeps', EXISTS (SELECT 1 FROM pg_catalog.pg_depend dd WHERE dd.classid = 'pg_attrdef'::pg_catalog.regclass
                     AND dd.objid = ad.oid AND dd.refclassid = 'pg_proc'::pg_catalog.regclass AND dd.refobjid >= 16384),
                 'identity', a.attidentity::text, 'generated', coalesce(to_jsonb(a) ->> 'attgenerated', ''),
                 'collation', ${collJson('a.attcollation', 't.typcollation')},
                 'isLocal', a.attislocal, 'inhCount', a.attinhcount,
                 'comment', ${columnCommentOf('c.oid', 'a.attnum')}, 'acl', ${aclJson('a.attacl')},
                 'storage', CASE WHEN a.attstorage <> t.typstorage THEN a.attstorage::text END,
                 'statTarget', CASE WHEN a.attstattarget >= 0 THEN a.attstattarget::int END
               ) ORDER BY a.attnum), '[]')
          FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
          LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
       (SELECT coalesce(json_agg(json_build_object('name', k.conname, 'def', pg_catalog.pg_get_constraintdef(k.oid), 'validated', k.convalidated,
                 'isLocal', k.conislocal, 'noInherit', k.connoinherit, 'comment', ${commentOf('k.oid', 'pg_constraint')}) ORDER BY k.conname), '[]')
          FROM pg_catalog.pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'c') AS checks
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND ${USER_NS} AND ${notExt('pg_class', 'c.oid')}
ORDER BY n.nspname, c.relname`;

export const INDEXES_SQL = `
SELECT i.indexrelid::int8::text AS oid, n.nspname AS schema, ic.relname AS name, i.indrelid::int8::text AS table_oid,
       pg_catalog.pg_get_indexdef(i.indexrelid) AS def, i.indisclustered AS clustered, i.indisvalid AS valid,
       ${commentOf('i.indexrelid', 'pg_class')} AS comment,
       i.indkey::int2[]::int[] AS columns,
       CASE WHEN k.oid IS NOT NULL THEN json_build_object('name', k.conname, 'type', k.contype, 'def', pg_catalog.pg_get_constraintdef(k.oid),
            'deferrable', k.condeferrable, 'comment', ${commentOf('k.oid', 'pg_constraint')}) END AS constraint,
       (SELECT json_build_object('schema', pn.nspname, 'name', pc.relname) FROM pg_catalog.pg_inherits h
          JOIN pg_catalog.pg_class pc ON pc.oid = h.inhparent JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace
         WHERE h.inhrelid = i.indexrelid) AS parent_index
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid JOIN pg_catalog.pg_namespace n ON n.oid = ic.relnamespace
JOIN pg_catalog.pg_class tc ON tc.oid = i.indrelid
LEFT JOIN pg_catalog.pg_constraint k ON k.conindid = i.indexrelid AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x')
WHERE tc.relkind IN ('r', 'p', 'm') AND ${USER_NS} AND ${notExt('pg_class', 'tc.oid')}
ORDER BY n.nspname, ic.relname`;

export const FOREIGN_KEYS_SQL = `
SELECT k.oid::int8::text AS oid, k.conname AS name, k.conrelid::int8::text AS table_oid, k.confrelid::int8::text AS ref_oid,
       pg_catalog.pg_get_constraintdef(k.oid) AS def, k.convalidated AS validated, k.conkey::int[] AS columns,
       ${commentOf('k.oid', 'pg_constraint')} AS comment
FROM pg_catalog.pg_constraint k JOIN pg_catalog.pg_class tc ON tc.oid = k.conrelid JOIN pg_catalog.pg_namespace n ON n.oid = tc.relnamespace
WHERE k.contype = 'f' AND coalesce((to_jsonb(k) ->> 'conparentid')::oid, 0) = 0 AND ${USER_NS} AND ${notExt('pg_class', 'tc.oid')}
ORDER BY n.nspname, tc.relname, k.conname`;

import { USER_NS, aclJson, collJson, notExt, commentOf } from './common.js';

export const VIEWS_SQL = `
SELECT c.oid::int8::text AS oid, n.nspname AS schema, c.relname AS name, c.relkind::text AS relkind,
       pg_catalog.pg_get_viewdef(c.oid) AS def, c.reloptions AS options, c.relispopulated AS populated,
       pg_catalog.pg_get_userbyid(c.relowner) AS owner, ${commentOf('c.oid', 'pg_class')} AS comment,
       ${aclJson('c.relacl')} AS acl,
       (SELECT coalesce(json_agg(json_build_object('name', a.attname, 'comment', d.description) ORDER BY a.attnum), '[]')
          FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_description d ON d.objoid = c.oid AND d.classoid = 'pg_class'::pg_catalog.regclass AND d.objsubid = a.attnum
         WHERE a.attrelid = c.oid AND a.attnum > 0) AS column_comments,
       (SELECT coalesce(json_agg(json_build_object('name', a.attname, 'type', pg_catalog.format_type(a.atttypid, a.atttypmod),
                 'collation', ${collJson('a.attcollation', 't.typcollation')}) ORDER BY a.attnum), '[]')
          FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
       EXISTS (SELECT 1 FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_depend d ON d.classid = 'pg_rewrite'::pg_catalog.regclass
                 AND d.objid = r.oid AND d.refclassid = 'pg_class'::pg_catalog.regclass AND d.refobjid = c.oid
                 AND d.refobjsubid > 0 AND d.deptype = 'n'
                WHERE r.ev_class = c.oid AND r.rulename = '_RETURN') AS self_ref
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('v', 'm') AND ${USER_NS} AND ${notExt('pg_class', 'c.oid')}
ORDER BY n.nspname, c.relname`;

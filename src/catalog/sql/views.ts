import { USER_NS, aclJson, notExt } from './common.js';

export const VIEWS_SQL = `
SELECT c.oid::int8::text AS oid, n.nspname AS schema, c.relname AS name, c.relkind::text AS relkind,
       pg_catalog.pg_get_viewdef(c.oid) AS def, c.reloptions AS options, c.relispopulated AS populated,
       pg_catalog.pg_get_userbyid(c.relowner) AS owner, pg_catalog.obj_description(c.oid, 'pg_class') AS comment,
       ${aclJson('c.relacl')} AS acl,
       (SELECT coalesce(json_agg(json_build_object('name', a.attname, 'comment', d.description) ORDER BY a.attnum), '[]')
          FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_description d ON d.objoid = c.oid AND d.classoid = 'pg_class'::pg_catalog.regclass AND d.objsubid = a.attnum
         WHERE a.attrelid = c.oid AND a.attnum > 0) AS column_comments
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('v', 'm') AND ${USER_NS} AND ${notExt('pg_class', 'c.oid')}
ORDER BY n.nspname, c.relname`;

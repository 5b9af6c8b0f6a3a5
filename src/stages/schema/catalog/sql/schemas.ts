import { USER_NS, aclJson, notExt } from './common.js';

export const SCHEMAS_SQL = `
SELECT n.oid::int8::text AS oid, n.nspname AS name, pg_catalog.pg_get_userbyid(n.nspowner) AS owner,
       pg_catalog.obj_description(n.oid, 'pg_namespace') AS comment, ${aclJson('n.nspacl')} AS acl
FROM pg_catalog.pg_namespace n
WHERE ${USER_NS} AND ${notExt('pg_namespace', 'n.oid')}
ORDER BY n.nspname`;

export const EXTENSIONS_SQL = `
SELECT e.oid::int8::text AS oid, e.extname AS name, n.nspname AS schema, e.extversion AS version,
       pg_catalog.obj_description(e.oid, 'pg_extension') AS comment
FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
WHERE e.oid >= 16384
ORDER BY e.extname`;

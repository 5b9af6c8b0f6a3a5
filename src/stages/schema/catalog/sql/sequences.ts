import { USER_NS, aclJson, notExt, commentOf } from './common.js';

export const SEQUENCES_SQL = `
SELECT c.oid::int8::text AS oid, n.nspname AS schema, c.relname AS name, pg_catalog.pg_get_userbyid(c.relowner) AS owner,
       ${commentOf('c.oid', 'pg_class')} AS comment, ${aclJson('c.relacl')} AS acl,
       pg_catalog.format_type(s.seqtypid, NULL) AS type, s.seqstart::text AS start, s.seqincrement::text AS increment,
       s.seqmin::text AS min, s.seqmax::text AS max, s.seqcache::text AS cache, s.seqcycle AS cycle,
       c.relpersistence = 'u' AS unlogged,
       (SELECT json_build_object('deptype', d.deptype, 'table', d.refobjid::int8::text, 'column', a.attname)
          FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
         WHERE d.classid = 'pg_class'::pg_catalog.regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::pg_catalog.regclass
           AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i') LIMIT 1) AS owned
FROM pg_catalog.pg_sequence s JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE ${USER_NS} AND ${notExt('pg_class', 'c.oid')}
ORDER BY n.nspname, c.relname`;

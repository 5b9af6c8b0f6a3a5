import { USER_NS, aclJson, collJson, notExt } from './common.js';

// multirange (14+) read through to_jsonb(r) so the same text runs on 12..17.
export const TYPES_SQL = `
SELECT t.oid::int8::text AS oid, n.nspname AS schema, t.typname AS name, t.typtype AS typtype,
       t.typrelid::int8::text AS relid,
       pg_catalog.pg_get_userbyid(t.typowner) AS owner, pg_catalog.obj_description(t.oid, 'pg_type') AS comment,
       ${aclJson('t.typacl')} AS acl,
       (SELECT json_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid) AS labels,
       (SELECT json_agg(json_build_object('name', a.attname, 'type', pg_catalog.format_type(a.atttypid, a.atttypmod),
                'collation', ${collJson('a.attcollation', '(SELECT typcollation FROM pg_catalog.pg_type WHERE oid = a.atttypid)')}) ORDER BY a.attnum)
          FROM pg_catalog.pg_attribute a WHERE t.typtype = 'c' AND a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped) AS attrs,
       (SELECT json_build_object('subtype', pg_catalog.format_type(r.rngsubtype, NULL),
                'opclass', CASE WHEN NOT oc.opcdefault THEN pg_catalog.quote_ident(ocn.nspname) || '.' || pg_catalog.quote_ident(oc.opcname) END,
                'collation', ${collJson('r.rngcollation', '(SELECT typcollation FROM pg_catalog.pg_type WHERE oid = r.rngsubtype)')},
                'canonical', NULLIF(r.rngcanonical::oid, 0)::pg_catalog.regproc::text,
                'subdiff', NULLIF(r.rngsubdiff::oid, 0)::pg_catalog.regproc::text,
                'multirange', (SELECT mt.typname FROM pg_catalog.pg_type mt WHERE mt.oid = (to_jsonb(r) ->> 'rngmultitypid')::oid))
          FROM pg_catalog.pg_range r JOIN pg_catalog.pg_opclass oc ON oc.oid = r.rngsubopc JOIN pg_catalog.pg_namespace ocn ON ocn.oid = oc.opcnamespace
          WHERE r.rngtypid = t.oid) AS range,
       CASE WHEN t.typtype = 'd' THEN json_build_object('base', pg_catalog.format_type(t.typbasetype, t.typtypmod),
                'notNull', t.typnotnull, 'default', pg_catalog.pg_get_expr(t.typdefaultbin, 0),
                'collation', ${collJson('t.typcollation', '(SELECT typcollation FROM pg_catalog.pg_type WHERE oid = t.typbasetype)')},
                'checks', (SELECT coalesce(json_agg(json_build_object('name', c.conname, 'def', pg_catalog.pg_get_constraintdef(c.oid),
                              'validated', c.convalidated, 'comment', pg_catalog.obj_description(c.oid, 'pg_constraint')) ORDER BY c.conname), '[]')
                           FROM pg_catalog.pg_constraint c WHERE c.contypid = t.oid AND c.contype = 'c')) END AS domain
FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE ${USER_NS} AND ${notExt('pg_type', 't.oid')}
  AND (t.typtype IN ('e', 'r', 'd') OR (t.typtype = 'c' AND (SELECT relkind FROM pg_catalog.pg_class WHERE oid = t.typrelid) = 'c'))
ORDER BY n.nspname, t.typname`;

import { USER_NS, notExt, commentOf } from './common.js';

// Triggers cloned onto partitions (tgparentid, 13+; internal on 12) come with the parent's.
export const TRIGGERS_SQL = `
SELECT t.oid::int8::text AS oid, t.tgname AS name, t.tgrelid::int8::text AS table_oid, pg_catalog.pg_get_triggerdef(t.oid) AS def,
       t.tgenabled::text AS enabled, ${commentOf('t.oid', 'pg_trigger')} AS comment
FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE NOT t.tgisinternal AND coalesce((to_jsonb(t) ->> 'tgparentid')::oid, 0) = 0 AND ${USER_NS} AND ${notExt('pg_class', 'c.oid')}
ORDER BY n.nspname, c.relname, t.tgname`;

export const RULES_SQL = `
SELECT r.oid::int8::text AS oid, r.rulename AS name, r.ev_class::int8::text AS table_oid, pg_catalog.pg_get_ruledef(r.oid) AS def,
       ${commentOf('r.oid', 'pg_rewrite')} AS comment
FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_class c ON c.oid = r.ev_class JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE r.rulename <> '_RETURN' AND ${USER_NS} AND ${notExt('pg_class', 'c.oid')}
ORDER BY n.nspname, c.relname, r.rulename`;

export const POLICIES_SQL = `
SELECT p.oid::int8::text AS oid, p.polname AS name, p.polrelid::int8::text AS table_oid, p.polcmd::text AS cmd, p.polpermissive AS permissive,
       (SELECT coalesce(json_agg(CASE WHEN r = 0 THEN '' ELSE pg_catalog.pg_get_userbyid(r) END ORDER BY 1), '[]') FROM unnest(p.polroles) r) AS roles,
       pg_catalog.pg_get_expr(p.polqual, p.polrelid) AS qual, pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) AS with_check,
       ${commentOf('p.oid', 'pg_policy')} AS comment
FROM pg_catalog.pg_policy p JOIN pg_catalog.pg_class c ON c.oid = p.polrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE ${USER_NS}
ORDER BY n.nspname, c.relname, p.polname`;

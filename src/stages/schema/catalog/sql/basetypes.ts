import { USER_NS, aclJson, notExt } from './common.js';

/**
 * Base types (CREATE TYPE t (INPUT = …, OUTPUT = …)), not their automatic array types, not lone
 * shell types. Support functions come as regproc text (qualified: search_path is '') and as
 * graph node ids; typsubscript (14+) through to_jsonb so the same text runs on 12..17.
 */
const fn = (col: string) => `json_build_object('name', NULLIF(${col}::oid, 0)::pg_catalog.regproc::text, 'id',
       CASE WHEN ${col}::oid <> 0 THEN 'func:' || ${col}::oid::int8 END)`;

export const BASE_TYPES_SQL = `
SELECT t.oid::int8::text AS oid, n.nspname AS schema, t.typname AS name,
       pg_catalog.pg_get_userbyid(t.typowner) AS owner, pg_catalog.obj_description(t.oid, 'pg_type') AS comment,
       ${aclJson('t.typacl')} AS acl,
       json_build_object('input', ${fn('t.typinput')}, 'output', ${fn('t.typoutput')}, 'receive', ${fn('t.typreceive')},
         'send', ${fn('t.typsend')}, 'typmodIn', ${fn('t.typmodin')}, 'typmodOut', ${fn('t.typmodout')},
         'analyze', ${fn('t.typanalyze')},
         'subscript', ${fn("coalesce(to_jsonb(t) ->> 'typsubscript', '-')::pg_catalog.regproc")}) AS funcs,
       t.typlen AS length, t.typbyval AS by_value, t.typalign::text AS align, t.typstorage::text AS storage,
       t.typcategory::text AS category, t.typispreferred AS preferred, t.typdefault AS default_value,
       CASE WHEN t.typelem <> 0 THEN pg_catalog.format_type(t.typelem, NULL) END AS element,
       t.typdelim::text AS delimiter, t.typcollation <> 0 AS collatable
FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE t.typtype = 'b' AND t.typisdefined AND ${USER_NS} AND ${notExt('pg_type', 't.oid')}
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type e WHERE e.typarray = t.oid)
ORDER BY n.nspname, t.typname`;

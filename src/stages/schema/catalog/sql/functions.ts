import { USER_NS, aclJson, notExt } from './common.js';

// prokind (11+) through to_jsonb; aggfinalmodify (11+) likewise.
export const FUNCTIONS_SQL = `
SELECT p.oid::int8::text AS oid, n.nspname AS schema, p.proname AS name, coalesce(to_jsonb(p) ->> 'prokind', 'f') AS kind,
       l.lanname AS language, pg_catalog.pg_get_function_identity_arguments(p.oid) AS identity_args,
       pg_catalog.pg_get_function_arguments(p.oid) AS args,
       CASE WHEN coalesce(to_jsonb(p) ->> 'prokind', 'f') <> 'a' AND l.lanname <> 'c' THEN pg_catalog.pg_get_functiondef(p.oid) END AS def,
       pg_catalog.pg_get_userbyid(p.proowner) AS owner, pg_catalog.obj_description(p.oid, 'pg_proc') AS comment,
       ${aclJson('p.proacl')} AS acl,
       (SELECT json_build_object('kind', g.aggkind, 'sfunc', g.aggtransfn::text, 'stype', pg_catalog.format_type(g.aggtranstype, NULL),
               'sspace', g.aggtransspace, 'finalfunc', NULLIF(g.aggfinalfn::oid, 0)::pg_catalog.regproc::text, 'finalExtra', g.aggfinalextra,
               'finalModify', to_jsonb(g) ->> 'aggfinalmodify',
               'combinefunc', NULLIF(g.aggcombinefn::oid, 0)::pg_catalog.regproc::text, 'serialfunc', NULLIF(g.aggserialfn::oid, 0)::pg_catalog.regproc::text,
               'deserialfunc', NULLIF(g.aggdeserialfn::oid, 0)::pg_catalog.regproc::text, 'initcond', g.agginitval,
               'msfunc', NULLIF(g.aggmtransfn::oid, 0)::pg_catalog.regproc::text, 'minvfunc', NULLIF(g.aggminvtransfn::oid, 0)::pg_catalog.regproc::text,
               'mstype', CASE WHEN g.aggmtranstype <> 0 THEN pg_catalog.format_type(g.aggmtranstype, NULL) END,
               'mfinalfunc', NULLIF(g.aggmfinalfn::oid, 0)::pg_catalog.regproc::text, 'minitcond', g.aggminitval,
               'sortop', NULLIF(g.aggsortop, 0)::pg_catalog.regoperator::text, 'parallel', p.proparallel)
          FROM pg_catalog.pg_aggregate g WHERE g.aggfnoid = p.oid) AS aggregate
FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace JOIN pg_catalog.pg_language l ON l.oid = p.prolang
WHERE ${USER_NS} AND ${notExt('pg_proc', 'p.oid')}
  -- range constructors and the like belong to their type (internal dependency)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend di WHERE di.classid = 'pg_proc'::pg_catalog.regclass AND di.objid = p.oid AND di.deptype = 'i')
ORDER BY n.nspname, p.proname, 6`;

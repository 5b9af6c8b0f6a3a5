import { USER_NS, notExt } from './common.js';

/**
 * User objects of kinds pgferry does not migrate, each with the reason, so that none is skipped
 * silently. (Kinds it migrates are read by ./extras.ts and friends; the generator reports the
 * single objects of those kinds it cannot create.)
 */
export const UNSUPPORTED_SQL = `
SELECT 'text search parser' AS kind, n.nspname || '.' || p.prsname AS name,
       'text search parsers are made of C functions; install them on the target (e.g. as an extension)' AS reason
  FROM pg_catalog.pg_ts_parser p JOIN pg_catalog.pg_namespace n ON n.oid = p.prsnamespace
 WHERE ${USER_NS} AND ${notExt('pg_ts_parser', 'p.oid')}
UNION ALL SELECT 'text search template', n.nspname || '.' || t.tmplname,
       'text search templates are made of C functions; install them on the target (e.g. as an extension)'
  FROM pg_catalog.pg_ts_template t JOIN pg_catalog.pg_namespace n ON n.oid = t.tmplnamespace
 WHERE ${USER_NS} AND ${notExt('pg_ts_template', 't.oid')}
UNION ALL SELECT 'language', l.lanname, 'procedural languages need a C handler; install the language on the target (CREATE EXTENSION)'
  FROM pg_catalog.pg_language l WHERE l.oid >= 16384 AND ${notExt('pg_language', 'l.oid')}
UNION ALL SELECT 'transform', pg_catalog.format_type(t.trftype, NULL) || ' for language ' || l.lanname,
       'transforms are made of C functions; install them on the target (e.g. as an extension)'
  FROM pg_catalog.pg_transform t JOIN pg_catalog.pg_language l ON l.oid = t.trflang
 WHERE t.oid >= 16384 AND ${notExt('pg_transform', 't.oid')}
UNION ALL SELECT 'access method', a.amname, 'access methods need a C handler; install it on the target (e.g. as an extension)'
  FROM pg_catalog.pg_am a WHERE a.oid >= 16384 AND ${notExt('pg_am', 'a.oid')}
UNION ALL SELECT 'security label', s.objtype || ' ' || s.objname || ' (provider ' || s.provider || ')',
       'security labels need the label provider module loaded on the target; set them there yourself'
  FROM pg_catalog.pg_seclabels s
UNION ALL SELECT 'subscription', s.subname, 'subscriptions are not migrated: they would start replicating on the target; create them yourself'
  FROM pg_catalog.pg_subscription s WHERE s.subdbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())
ORDER BY 1, 2`;

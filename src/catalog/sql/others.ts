import { USER_NS, notExt } from './common.js';

/** User objects of kinds pgferry does not migrate, so that none is skipped silently. */
export const UNSUPPORTED_SQL = `
SELECT 'collation' AS kind, n.nspname || '.' || c.collname AS name FROM pg_catalog.pg_collation c JOIN pg_catalog.pg_namespace n ON n.oid = c.collnamespace
 WHERE ${USER_NS} AND ${notExt('pg_collation', 'c.oid')}
UNION ALL SELECT 'operator', n.nspname || '.' || o.oprname FROM pg_catalog.pg_operator o JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace
 WHERE ${USER_NS} AND ${notExt('pg_operator', 'o.oid')}
UNION ALL SELECT 'operator class', n.nspname || '.' || o.opcname FROM pg_catalog.pg_opclass o JOIN pg_catalog.pg_namespace n ON n.oid = o.opcnamespace
 WHERE ${USER_NS} AND ${notExt('pg_opclass', 'o.oid')}
UNION ALL SELECT 'operator family', n.nspname || '.' || o.opfname FROM pg_catalog.pg_opfamily o JOIN pg_catalog.pg_namespace n ON n.oid = o.opfnamespace
 WHERE ${USER_NS} AND ${notExt('pg_opfamily', 'o.oid')}
UNION ALL SELECT 'cast', format_type(c.castsource, NULL) || ' AS ' || format_type(c.casttarget, NULL) FROM pg_catalog.pg_cast c
 WHERE c.oid >= 16384 AND ${notExt('pg_cast', 'c.oid')}
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend di WHERE di.classid = 'pg_cast'::pg_catalog.regclass AND di.objid = c.oid AND di.deptype = 'i')
UNION ALL SELECT 'conversion', n.nspname || '.' || c.conname FROM pg_catalog.pg_conversion c JOIN pg_catalog.pg_namespace n ON n.oid = c.connamespace
 WHERE ${USER_NS} AND ${notExt('pg_conversion', 'c.oid')}
UNION ALL SELECT 'text search configuration', n.nspname || '.' || c.cfgname FROM pg_catalog.pg_ts_config c JOIN pg_catalog.pg_namespace n ON n.oid = c.cfgnamespace
 WHERE ${USER_NS} AND ${notExt('pg_ts_config', 'c.oid')}
UNION ALL SELECT 'text search dictionary', n.nspname || '.' || c.dictname FROM pg_catalog.pg_ts_dict c JOIN pg_catalog.pg_namespace n ON n.oid = c.dictnamespace
 WHERE ${USER_NS} AND ${notExt('pg_ts_dict', 'c.oid')}
UNION ALL SELECT 'foreign table', n.nspname || '.' || c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'f' AND ${USER_NS} AND ${notExt('pg_class', 'c.oid')}
UNION ALL SELECT 'foreign data wrapper', w.fdwname FROM pg_catalog.pg_foreign_data_wrapper w WHERE ${notExt('pg_foreign_data_wrapper', 'w.oid')}
UNION ALL SELECT 'foreign server', s.srvname FROM pg_catalog.pg_foreign_server s WHERE ${notExt('pg_foreign_server', 's.oid')}
UNION ALL SELECT 'event trigger', e.evtname FROM pg_catalog.pg_event_trigger e WHERE ${notExt('pg_event_trigger', 'e.oid')}
UNION ALL SELECT 'publication', p.pubname FROM pg_catalog.pg_publication p
UNION ALL SELECT 'statistics object', n.nspname || '.' || s.stxname FROM pg_catalog.pg_statistic_ext s JOIN pg_catalog.pg_namespace n ON n.oid = s.stxnamespace
 WHERE ${USER_NS}
UNION ALL SELECT 'language', l.lanname FROM pg_catalog.pg_language l WHERE l.oid >= 16384 AND ${notExt('pg_language', 'l.oid')}
UNION ALL SELECT 'default privileges', coalesce(n.nspname, '(all schemas)') || ' for ' || pg_catalog.pg_get_userbyid(d.defaclrole)
 FROM pg_catalog.pg_default_acl d LEFT JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace
ORDER BY 1, 2`;

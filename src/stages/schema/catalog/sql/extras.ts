/**
 * Catalog queries for the less common object kinds: collations, extended statistics, operators,
 * operator families/classes, casts, text search dictionaries/configurations, foreign-data
 * wrappers, servers, user mappings, foreign tables, event triggers, publications, default
 * privileges and conversions. Columns that only exist on some versions are read through
 * to_jsonb(row) ->> 'col' so one text runs on 12..17 (publications differ enough on 15+ to
 * have two texts).
 */
import { quoteLiteral } from '../../../../core/ident.js';
import { CAPTURE_PUBLICATION_COMMENT } from '../../../cdc/types.js';
import { USER_NS, aclJson, collJson, notExt } from './common.js';

const owner = (col: string) => `pg_catalog.pg_get_userbyid(${col})`;
const optionsJson = (col: string) =>
  `(SELECT json_agg(json_build_array(o.option_name, o.option_value)) FROM pg_catalog.pg_options_to_table(${col}) o)`;
const nsName = (oidExpr: string) => `(SELECT nspname FROM pg_catalog.pg_namespace WHERE oid = ${oidExpr})`;
/** An operator as [schema, name, left, right] (types formatted, qualified with search_path = ''). */
const opRef = (oidExpr: string) => `(SELECT json_build_array(orn.nspname, oro.oprname,
      CASE WHEN oro.oprleft <> 0 THEN pg_catalog.format_type(oro.oprleft, NULL) END,
      CASE WHEN oro.oprright <> 0 THEN pg_catalog.format_type(oro.oprright, NULL) END)
    FROM pg_catalog.pg_operator oro JOIN pg_catalog.pg_namespace orn ON orn.oid = oro.oprnamespace WHERE oro.oid = ${oidExpr})`;

export const COLLATIONS_SQL = `
SELECT c.oid::int8::text AS oid, n.nspname AS schema, c.collname AS name, ${owner('c.collowner')} AS owner,
       pg_catalog.obj_description(c.oid, 'pg_collation') AS comment, c.collprovider::text AS provider,
       c.collcollate::text AS lc_collate, c.collctype::text AS lc_ctype,
       coalesce(to_jsonb(c) ->> 'colllocale', to_jsonb(c) ->> 'colliculocale') AS locale,
       to_jsonb(c) ->> 'collicurules' AS rules,
       coalesce((to_jsonb(c) ->> 'collisdeterministic')::bool, true) AS deterministic
FROM pg_catalog.pg_collation c JOIN pg_catalog.pg_namespace n ON n.oid = c.collnamespace
WHERE ${USER_NS} AND ${notExt('pg_collation', 'c.oid')}
ORDER BY 2, 3`;

export const STATISTICS_SQL = `
SELECT s.oid::int8::text AS oid, n.nspname AS schema, s.stxname AS name, s.stxrelid::int8::text AS table_oid,
       ${owner('s.stxowner')} AS owner, pg_catalog.obj_description(s.oid, 'pg_statistic_ext') AS comment,
       pg_catalog.pg_get_statisticsobjdef(s.oid) AS def,
       CASE WHEN (to_jsonb(s) ->> 'stxstattarget')::int >= 0 THEN (to_jsonb(s) ->> 'stxstattarget')::int END AS stat_target
FROM pg_catalog.pg_statistic_ext s JOIN pg_catalog.pg_namespace n ON n.oid = s.stxnamespace
WHERE ${USER_NS} AND ${notExt('pg_statistic_ext', 's.oid')}
ORDER BY 2, 3`;

// Shell operators (oprcode = 0) are not objects of their own: CREATE OPERATOR … COMMUTATOR/NEGATOR makes them.
export const OPERATORS_SQL = `
SELECT o.oid::int8::text AS oid, n.nspname AS schema, o.oprname AS name, ${owner('o.oprowner')} AS owner,
       pg_catalog.obj_description(o.oid, 'pg_operator') AS comment,
       CASE WHEN o.oprleft <> 0 THEN pg_catalog.format_type(o.oprleft, NULL) END AS "left",
       CASE WHEN o.oprright <> 0 THEN pg_catalog.format_type(o.oprright, NULL) END AS "right",
       o.oprcode::pg_catalog.regproc::text AS proc,
       CASE WHEN o.oprcom <> 0 THEN ${opRef('o.oprcom')} END AS commutator,
       CASE WHEN o.oprnegate <> 0 THEN ${opRef('o.oprnegate')} END AS negator,
       NULLIF(o.oprrest::oid, 0)::pg_catalog.regproc::text AS restrict, NULLIF(o.oprjoin::oid, 0)::pg_catalog.regproc::text AS "join",
       o.oprcanhash AS hashes, o.oprcanmerge AS merges
FROM pg_catalog.pg_operator o JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace
WHERE o.oprcode <> 0 AND ${USER_NS} AND ${notExt('pg_operator', 'o.oid')}
ORDER BY 2, 3, 6, 7`;

/** Members (pg_amop/pg_amproc) of family `fam`, either those of class `cls` or the loose ones (cls = null). */
function members(fam: string, cls: string | null): string {
  const owned = (
    cat: string,
    oid: string,
  ) => `EXISTS (SELECT 1 FROM pg_catalog.pg_depend dm WHERE dm.classid = '${cat}'::pg_catalog.regclass AND dm.objid = ${oid}
      AND dm.refclassid = 'pg_opclass'::pg_catalog.regclass AND dm.deptype = 'i'${cls ? ` AND dm.refobjid = ${cls}` : ''})`;
  return `(SELECT coalesce(json_agg(json_build_object('strategy', a.amopstrategy, 'op', ${opRef('a.amopopr')}, 'purpose', a.amoppurpose,
            'sortFamily', (SELECT json_build_array(sn.nspname, sf.opfname) FROM pg_catalog.pg_opfamily sf JOIN pg_catalog.pg_namespace sn ON sn.oid = sf.opfnamespace
                           WHERE sf.oid = a.amopsortfamily)) ORDER BY a.amopstrategy, a.amoplefttype, a.amoprighttype), '[]')
          FROM pg_catalog.pg_amop a WHERE a.amopfamily = ${fam} AND ${cls ? '' : 'NOT '}${owned('pg_amop', 'a.oid')}) AS ops,
       (SELECT coalesce(json_agg(json_build_object('num', p.amprocnum, 'left', pg_catalog.format_type(p.amproclefttype, NULL),
            'right', pg_catalog.format_type(p.amprocrighttype, NULL), 'proc', p.amproc::pg_catalog.regprocedure::text)
            ORDER BY p.amprocnum, p.amproclefttype, p.amprocrighttype), '[]')
          FROM pg_catalog.pg_amproc p WHERE p.amprocfamily = ${fam} AND ${cls ? '' : 'NOT '}${owned('pg_amproc', 'p.oid')}) AS procs`;
}

export const OPFAMILIES_SQL = `
SELECT f.oid::int8::text AS oid, n.nspname AS schema, f.opfname AS name, ${owner('f.opfowner')} AS owner,
       pg_catalog.obj_description(f.oid, 'pg_opfamily') AS comment, am.amname AS am, ${members('f.oid', null)}
FROM pg_catalog.pg_opfamily f JOIN pg_catalog.pg_namespace n ON n.oid = f.opfnamespace JOIN pg_catalog.pg_am am ON am.oid = f.opfmethod
WHERE ${USER_NS} AND ${notExt('pg_opfamily', 'f.oid')}
ORDER BY 2, 3, 6`;

export const OPCLASSES_SQL = `
SELECT c.oid::int8::text AS oid, n.nspname AS schema, c.opcname AS name, ${owner('c.opcowner')} AS owner,
       pg_catalog.obj_description(c.oid, 'pg_opclass') AS comment, am.amname AS am, c.opcdefault AS is_default,
       pg_catalog.format_type(c.opcintype, NULL) AS type, CASE WHEN c.opckeytype <> 0 THEN pg_catalog.format_type(c.opckeytype, NULL) END AS storage,
       json_build_array(${nsName('f.opfnamespace')}, f.opfname) AS family, ${members('c.opcfamily', 'c.oid')}
FROM pg_catalog.pg_opclass c JOIN pg_catalog.pg_namespace n ON n.oid = c.opcnamespace JOIN pg_catalog.pg_am am ON am.oid = c.opcmethod
JOIN pg_catalog.pg_opfamily f ON f.oid = c.opcfamily
WHERE ${USER_NS} AND ${notExt('pg_opclass', 'c.oid')}
ORDER BY 2, 3, 6`;

export const CASTS_SQL = `
SELECT c.oid::int8::text AS oid, pg_catalog.format_type(c.castsource, NULL) AS source, pg_catalog.format_type(c.casttarget, NULL) AS target,
       c.castmethod::text AS method, c.castcontext::text AS context,
       CASE WHEN c.castfunc <> 0 THEN c.castfunc::pg_catalog.regprocedure::text END AS func,
       NULLIF(c.castfunc, 0)::int8::text AS func_oid,
       pg_catalog.obj_description(c.oid, 'pg_cast') AS comment,
       (SELECT coalesce(json_agg(DISTINCT x.s), '[]') FROM (
          SELECT ${nsName('t.typnamespace')} AS s FROM pg_catalog.pg_type t WHERE t.oid IN (c.castsource, c.casttarget)
          UNION ALL SELECT ${nsName('p.pronamespace')} FROM pg_catalog.pg_proc p WHERE p.oid = c.castfunc) x
         WHERE x.s NOT IN ('pg_catalog', 'information_schema')) AS schemas
FROM pg_catalog.pg_cast c
WHERE c.oid >= 16384 AND ${notExt('pg_cast', 'c.oid')}
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend di WHERE di.classid = 'pg_cast'::pg_catalog.regclass AND di.objid = c.oid AND di.deptype = 'i')
ORDER BY 2, 3`;

/** A template/parser is usable on the target when it is built in or comes with an extension. */
const builtinOrExt = (cat: string, oid: string) => `(${oid} < 16384 OR NOT ${notExt(cat, oid)})`;

export const TS_DICTS_SQL = `
SELECT d.oid::int8::text AS oid, n.nspname AS schema, d.dictname AS name, ${owner('d.dictowner')} AS owner,
       pg_catalog.obj_description(d.oid, 'pg_ts_dict') AS comment, json_build_array(${nsName('t.tmplnamespace')}, t.tmplname) AS template,
       ${builtinOrExt('pg_ts_template', 't.oid')} AS template_ok, d.dictinitoption AS options
FROM pg_catalog.pg_ts_dict d JOIN pg_catalog.pg_namespace n ON n.oid = d.dictnamespace JOIN pg_catalog.pg_ts_template t ON t.oid = d.dicttemplate
WHERE ${USER_NS} AND ${notExt('pg_ts_dict', 'd.oid')}
ORDER BY 2, 3`;

export const TS_CONFIGS_SQL = `
SELECT c.oid::int8::text AS oid, n.nspname AS schema, c.cfgname AS name, ${owner('c.cfgowner')} AS owner,
       pg_catalog.obj_description(c.oid, 'pg_ts_config') AS comment, json_build_array(${nsName('p.prsnamespace')}, p.prsname) AS parser,
       ${builtinOrExt('pg_ts_parser', 'p.oid')} AS parser_ok,
       (SELECT coalesce(json_agg(json_build_object('token', tt.alias, 'dicts',
                 (SELECT json_agg(json_build_array(${nsName('d.dictnamespace')}, d.dictname) ORDER BY m.mapseqno)
                    FROM pg_catalog.pg_ts_config_map m JOIN pg_catalog.pg_ts_dict d ON d.oid = m.mapdict
                   WHERE m.mapcfg = c.oid AND m.maptokentype = tt.tokid)) ORDER BY tt.tokid), '[]')
          FROM pg_catalog.ts_token_type(c.cfgparser) tt
         WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_ts_config_map m WHERE m.mapcfg = c.oid AND m.maptokentype = tt.tokid)) AS maps
FROM pg_catalog.pg_ts_config c JOIN pg_catalog.pg_namespace n ON n.oid = c.cfgnamespace JOIN pg_catalog.pg_ts_parser p ON p.oid = c.cfgparser
WHERE ${USER_NS} AND ${notExt('pg_ts_config', 'c.oid')}
ORDER BY 2, 3`;

export const FDWS_SQL = `
SELECT w.oid::int8::text AS oid, w.fdwname AS name, ${owner('w.fdwowner')} AS owner,
       pg_catalog.obj_description(w.oid, 'pg_foreign_data_wrapper') AS comment, ${aclJson('w.fdwacl')} AS acl,
       NULLIF(w.fdwhandler, 0)::pg_catalog.regproc::text AS handler, NULLIF(w.fdwvalidator, 0)::pg_catalog.regproc::text AS validator,
       ${optionsJson('w.fdwoptions')} AS options
FROM pg_catalog.pg_foreign_data_wrapper w
WHERE ${notExt('pg_foreign_data_wrapper', 'w.oid')}
ORDER BY 2`;

export const SERVERS_SQL = `
SELECT s.oid::int8::text AS oid, s.srvname AS name, ${owner('s.srvowner')} AS owner,
       pg_catalog.obj_description(s.oid, 'pg_foreign_server') AS comment, ${aclJson('s.srvacl')} AS acl,
       w.fdwname AS fdw, s.srvtype AS type, s.srvversion AS version, ${optionsJson('s.srvoptions')} AS options
FROM pg_catalog.pg_foreign_server s JOIN pg_catalog.pg_foreign_data_wrapper w ON w.oid = s.srvfdw
WHERE ${notExt('pg_foreign_server', 's.oid')}
ORDER BY 2`;

// pg_user_mappings shows the options only to those allowed to see them (as pg_dump does).
export const USER_MAPPINGS_SQL = `
SELECT u.umid::int8::text AS oid, u.srvid::int8::text AS server_oid, u.srvname AS server,
       CASE WHEN u.umuser = 0 THEN '' ELSE u.usename::text END AS "user", ${optionsJson('u.umoptions')} AS options,
       u.umoptions IS NULL AND NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user)
         AND u.usename::text <> current_user AS hidden
FROM pg_catalog.pg_user_mappings u
ORDER BY 3, 4`;

export const FOREIGN_TABLES_SQL = `
SELECT c.oid::int8::text AS oid, n.nspname AS schema, c.relname AS name, ${owner('c.relowner')} AS owner,
       pg_catalog.obj_description(c.oid, 'pg_class') AS comment, ${aclJson('c.relacl')} AS acl,
       s.srvname AS server, s.oid::int8::text AS server_oid, ${optionsJson('ft.ftoptions')} AS options,
       CASE WHEN c.relispartition THEN 'foreign table partitions are not supported'
            WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid) THEN 'foreign tables inheriting from tables are not supported'
            WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conrelid = c.oid) THEN 'CHECK constraints on foreign tables are not supported'
            WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND a.attacl IS NOT NULL)
              THEN 'column privileges on foreign tables are not supported' END AS unsupported,
       (SELECT coalesce(json_agg(json_build_object('name', a.attname, 'type', pg_catalog.format_type(a.atttypid, a.atttypmod),
                 'notNull', a.attnotnull, 'default', pg_catalog.pg_get_expr(ad.adbin, ad.adrelid),
                 'collation', ${collJson('a.attcollation', 't.typcollation')}, 'options', ${optionsJson('a.attfdwoptions')},
                 'comment', pg_catalog.col_description(c.oid, a.attnum)) ORDER BY a.attnum), '[]')
          FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
          LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_foreign_table ft ON ft.ftrelid = c.oid JOIN pg_catalog.pg_foreign_server s ON s.oid = ft.ftserver
WHERE c.relkind = 'f' AND ${USER_NS} AND ${notExt('pg_class', 'c.oid')}
ORDER BY 2, 3`;

export const EVENT_TRIGGERS_SQL = `
SELECT e.oid::int8::text AS oid, e.evtname AS name, ${owner('e.evtowner')} AS owner,
       pg_catalog.obj_description(e.oid, 'pg_event_trigger') AS comment, e.evtevent AS event,
       e.evtfoid::pg_catalog.regproc::text AS func, e.evtfoid::int8::text AS func_oid, e.evtenabled::text AS enabled,
       e.evttags AS tags
FROM pg_catalog.pg_event_trigger e
WHERE ${notExt('pg_event_trigger', 'e.oid')}
ORDER BY 2`;

const PUB_COMMON = `p.oid::int8::text AS oid, p.pubname AS name, ${owner('p.pubowner')} AS owner,
       pg_catalog.obj_description(p.oid, 'pg_publication') AS comment, p.puballtables AS all_tables,
       array_remove(ARRAY[CASE WHEN p.pubinsert THEN 'insert' END, CASE WHEN p.pubupdate THEN 'update' END,
                          CASE WHEN p.pubdelete THEN 'delete' END,
                          CASE WHEN coalesce((to_jsonb(p) ->> 'pubtruncate')::bool, false) THEN 'truncate' END], NULL) AS publish,
       (to_jsonb(p) ->> 'pubviaroot')::bool AS via_root`;

/** Publications; column lists, row filters and FOR TABLES IN SCHEMA exist on 15+. */
export function publicationsSql(version: number): string {
  const v15 = version >= 150000;
  return `
SELECT ${PUB_COMMON},
       (SELECT coalesce(json_agg(json_build_object('oid', pr.prrelid::int8::text, 'schema', rn.nspname, 'name', rc.relname,
                 'columns', ${
                   v15
                     ? `(SELECT json_agg(a.attname ORDER BY a.attnum) FROM pg_catalog.pg_attribute a
                                      WHERE a.attrelid = pr.prrelid AND a.attnum = ANY (pr.prattrs::int2[]))`
                     : 'NULL'
                 },
                 'where', ${v15 ? 'pg_catalog.pg_get_expr(pr.prqual, pr.prrelid)' : 'NULL'}) ORDER BY rn.nspname, rc.relname), '[]')
          FROM pg_catalog.pg_publication_rel pr JOIN pg_catalog.pg_class rc ON rc.oid = pr.prrelid JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
         WHERE pr.prpubid = p.oid) AS tables,
       ${v15 ? `(SELECT coalesce(json_agg(${nsName('pn.pnnspid')} ORDER BY 1), '[]') FROM pg_catalog.pg_publication_namespace pn WHERE pn.pnpubid = p.oid)` : `'[]'::json`} AS schemas
FROM pg_catalog.pg_publication p
WHERE pg_catalog.obj_description(p.oid, 'pg_publication') IS DISTINCT FROM ${quoteLiteral(CAPTURE_PUBLICATION_COMMENT)}
ORDER BY 2`;
}

/** Default privileges; for global entries (no schema) also the built-in default they replace. */
export const DEFAULT_ACLS_SQL = `
SELECT d.oid::int8::text AS oid, ${owner('d.defaclrole')} AS role, ${nsName('d.defaclnamespace')} AS schema, d.defaclobjtype::text AS obj_type,
       coalesce(${aclJson('d.defaclacl')}, '[]') AS acl,
       CASE WHEN d.defaclnamespace = 0 THEN coalesce(${aclJson(`pg_catalog.acldefault(CASE d.defaclobjtype WHEN 'S' THEN 's' ELSE d.defaclobjtype END, d.defaclrole)`)}, '[]')
            ELSE '[]' END AS base
FROM pg_catalog.pg_default_acl d
ORDER BY 2, 3 NULLS FIRST, 4`;

export const CONVERSIONS_SQL = `
SELECT c.oid::int8::text AS oid, n.nspname AS schema, c.conname AS name, ${owner('c.conowner')} AS owner,
       pg_catalog.obj_description(c.oid, 'pg_conversion') AS comment,
       pg_catalog.pg_encoding_to_char(c.conforencoding) AS for_encoding, pg_catalog.pg_encoding_to_char(c.contoencoding) AS to_encoding,
       c.conproc::pg_catalog.regproc::text AS proc, c.condefault AS is_default
FROM pg_catalog.pg_conversion c JOIN pg_catalog.pg_namespace n ON n.oid = c.connamespace
WHERE ${USER_NS} AND ${notExt('pg_conversion', 'c.oid')}
ORDER BY 2, 3`;

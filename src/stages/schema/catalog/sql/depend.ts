/**
 * Dependencies between objects, each side named as a graph node: rel:<oid>, type:<oid>, func:<oid>,
 * schema:<oid>, ext:<oid>, con:<oid>, default:<reloid>:<attnum>, rule:<oid>, view-rule (→ rel), policy:<oid>,
 * coll:, stat:, op:, opf:, opc:, cast:, tsdict:, tscfg:, fdw:, srv:, um:, evt:, conv:, defacl: <oid>; operator family
 * members (pg_amop/pg_amproc) → their opc:/opf:.
 */
const member = (
  cat: string,
  oid: string,
) => `(SELECT CASE WHEN dm.refclassid = 'pg_opclass'::pg_catalog.regclass THEN 'opc:' ELSE 'opf:' END || dm.refobjid::int8
      FROM pg_catalog.pg_depend dm WHERE dm.classid = '${cat}'::pg_catalog.regclass AND dm.objid = ${oid} AND dm.deptype IN ('i', 'a')
       AND dm.refclassid IN ('pg_opclass'::pg_catalog.regclass, 'pg_opfamily'::pg_catalog.regclass)
     ORDER BY dm.refclassid = 'pg_opclass'::pg_catalog.regclass DESC LIMIT 1)`;
const node = (cls: string, oid: string, _sub: string) => `CASE ${cls}
    WHEN 'pg_class'::pg_catalog.regclass THEN 'rel:' || ${oid}::int8
    WHEN 'pg_type'::pg_catalog.regclass THEN 'type:' || ${oid}::int8
    WHEN 'pg_proc'::pg_catalog.regclass THEN 'func:' || ${oid}::int8
    WHEN 'pg_namespace'::pg_catalog.regclass THEN 'schema:' || ${oid}::int8
    WHEN 'pg_extension'::pg_catalog.regclass THEN 'ext:' || ${oid}::int8
    WHEN 'pg_constraint'::pg_catalog.regclass THEN 'con:' || ${oid}::int8
    WHEN 'pg_policy'::pg_catalog.regclass THEN 'policy:' || ${oid}::int8
    WHEN 'pg_collation'::pg_catalog.regclass THEN 'coll:' || ${oid}::int8
    WHEN 'pg_statistic_ext'::pg_catalog.regclass THEN 'stat:' || ${oid}::int8
    WHEN 'pg_operator'::pg_catalog.regclass THEN 'op:' || ${oid}::int8
    WHEN 'pg_opfamily'::pg_catalog.regclass THEN 'opf:' || ${oid}::int8
    WHEN 'pg_opclass'::pg_catalog.regclass THEN 'opc:' || ${oid}::int8
    WHEN 'pg_cast'::pg_catalog.regclass THEN 'cast:' || ${oid}::int8
    WHEN 'pg_ts_dict'::pg_catalog.regclass THEN 'tsdict:' || ${oid}::int8
    WHEN 'pg_ts_config'::pg_catalog.regclass THEN 'tscfg:' || ${oid}::int8
    WHEN 'pg_foreign_data_wrapper'::pg_catalog.regclass THEN 'fdw:' || ${oid}::int8
    WHEN 'pg_foreign_server'::pg_catalog.regclass THEN 'srv:' || ${oid}::int8
    WHEN 'pg_user_mapping'::pg_catalog.regclass THEN 'um:' || ${oid}::int8
    WHEN 'pg_event_trigger'::pg_catalog.regclass THEN 'evt:' || ${oid}::int8
    WHEN 'pg_conversion'::pg_catalog.regclass THEN 'conv:' || ${oid}::int8
    WHEN 'pg_default_acl'::pg_catalog.regclass THEN 'defacl:' || ${oid}::int8
    -- operator family members belong to their class (internal) or, when loose, to their family
    WHEN 'pg_amop'::pg_catalog.regclass THEN ${member('pg_amop', oid)}
    WHEN 'pg_amproc'::pg_catalog.regclass THEN ${member('pg_amproc', oid)}
    WHEN 'pg_attrdef'::pg_catalog.regclass THEN (SELECT 'default:' || ad.adrelid::int8 || ':' || ad.adnum FROM pg_catalog.pg_attrdef ad WHERE ad.oid = ${oid})
    WHEN 'pg_rewrite'::pg_catalog.regclass THEN (SELECT CASE WHEN rw.rulename = '_RETURN' THEN 'rel:' || rw.ev_class::int8 ELSE 'rule:' || rw.oid::int8 END
                                                  FROM pg_catalog.pg_rewrite rw WHERE rw.oid = ${oid})
  END`;
void 0;

export const DEPEND_SQL = `
SELECT DISTINCT ${node('d.classid', 'd.objid', 'd.objsubid')} AS obj, ${node('d.refclassid', 'd.refobjid', 'd.refobjsubid')} AS ref, d.deptype::text AS deptype
FROM pg_catalog.pg_depend d
WHERE d.deptype IN ('n', 'a', 'i') AND d.objid >= 16384 AND d.refobjid >= 16384`;

/** Objects that belong to an extension map onto the extension: depending on one means depending on it. */
export const EXTENSION_MEMBERS_SQL = `
SELECT ${node('d.classid', 'd.objid', 'd.objsubid')} AS member, 'ext:' || d.refobjid::int8 AS ext
FROM pg_catalog.pg_depend d WHERE d.deptype = 'e' AND d.refclassid = 'pg_extension'::pg_catalog.regclass`;

/** Constraints owned by a table or a domain, to map con:<oid> onto its owner. */
export const CONSTRAINT_OWNERS_SQL = `
SELECT 'con:' || k.oid::int8 AS con, k.contype::text AS contype,
       CASE WHEN k.conrelid <> 0 THEN 'rel:' || k.conrelid::int8 ELSE 'type:' || k.contypid::int8 END AS owner
FROM pg_catalog.pg_constraint k WHERE k.oid >= 16384`;

/** Array types and multiranges, to map them onto the type they are made of. */
export const TYPE_ALIASES_SQL = `
SELECT 'type:' || t.oid::int8 AS alias, CASE WHEN t.typrelid <> 0 THEN 'rel:' || t.typrelid::int8 ELSE 'type:' || t.oid::int8 END AS target
FROM pg_catalog.pg_type t WHERE t.oid >= 16384 AND t.typrelid <> 0
UNION ALL
SELECT 'type:' || t.oid::int8, 'type:' || t.typelem::int8 FROM pg_catalog.pg_type t WHERE t.oid >= 16384 AND t.typelem <> 0 AND t.typcategory = 'A'
UNION ALL
SELECT 'type:' || (to_jsonb(r) ->> 'rngmultitypid')::int8, 'type:' || r.rngtypid::int8 FROM pg_catalog.pg_range r
 WHERE r.rngtypid >= 16384 AND to_jsonb(r) ? 'rngmultitypid'`;

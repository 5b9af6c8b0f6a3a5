/**
 * integrity.fk-parents: foreign keys of selected tables whose parent table is not selected.
 * integrity.dependencies: types, sequences (nextval defaults) and functions (defaults, CHECKs)
 * used by selected tables that live in schemas not selected and do not exist on the target.
 */
import { qualify, quoteIdent } from '../../core/ident.js';
import { failed, passed, plural, warning, type CheckDef } from './types.js';

export const integrityFkParents: CheckDef = {
  id: 'integrity.fk-parents',
  title: 'Foreign key parents selected',
  level: 'error',
  needs: ['source', 'model'],
  async run(ctx) {
    const m = ctx.model!;
    if (!m.tables.length) return passed('no tables selected');
    const r = await ctx.source!.query<{ conname: string; rel: string; parent: string; pschema: string; pname: string }>(
      `SELECT k.conname, k.conrelid::int8::text AS rel, k.confrelid::int8::text AS parent, pn.nspname AS pschema, pc.relname AS pname
       FROM pg_constraint k JOIN pg_class pc ON pc.oid = k.confrelid JOIN pg_namespace pn ON pn.oid = pc.relnamespace
       WHERE k.contype = 'f' AND k.conrelid = ANY ($1::oid[]) AND coalesce(to_jsonb(k) ->> 'conparentid', '0') = '0'
       ORDER BY 1`,
      [m.tables.map((t) => t.oid)],
    );
    const selected = new Set(m.tables.map((t) => t.oid));
    const byOid = new Map(m.tables.map((t) => [t.oid, t]));
    const orphans = r.rows
      .filter((k) => !selected.has(k.parent))
      .map((k) => `${byOid.get(k.rel)!.key} constraint ${quoteIdent(k.conname)} → ${qualify(k.pschema, k.pname)}`);
    if (!orphans.length) return passed(`${plural(r.rows.length, 'foreign key')}, every parent table selected`);
    if (ctx.task.dropOrphanForeignKeys) {
      return warning(
        `${plural(orphans.length, 'foreign key')} reference tables not selected and will be left out (dropOrphanForeignKeys)`,
        orphans,
        'referential integrity of these columns is not enforced on the target',
      );
    }
    return failed(
      `${plural(orphans.length, 'foreign key')} of selected tables reference tables that are not selected`,
      orphans,
      'select the parent tables too, exclude the child tables, or set dropOrphanForeignKeys: true to leave these foreign keys out',
    );
  },
};

const DEPS_SQL = `
WITH cols AS (
  SELECT a.attrelid, a.attname, CASE WHEN t.typcategory = 'A' AND t.typelem <> 0 THEN t.typelem ELSE t.oid END AS typ
  FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
  WHERE a.attrelid = ANY ($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
), deps AS (
  SELECT cols.attrelid AS rel, 'column ' || quote_ident(cols.attname) AS used_by, 'type' AS kind, n.nspname AS schema, t.typname AS name, t.oid AS obj, 'pg_type'::regclass AS cls
  FROM cols JOIN pg_type t ON t.oid = cols.typ JOIN pg_namespace n ON n.oid = t.typnamespace
  UNION ALL
  SELECT ad.adrelid, 'default of ' || quote_ident(a.attname), CASE WHEN d.refclassid = 'pg_class'::regclass THEN 'sequence' ELSE 'function' END,
         coalesce(sn.nspname, pn.nspname), coalesce(sc.relname, p.proname), d.refobjid, d.refclassid
  FROM pg_attrdef ad JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
  JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid AND d.refclassid IN ('pg_class'::regclass, 'pg_proc'::regclass) AND d.deptype = 'n'
  LEFT JOIN pg_class sc ON d.refclassid = 'pg_class'::regclass AND sc.oid = d.refobjid AND sc.relkind = 'S'
  LEFT JOIN pg_namespace sn ON sn.oid = sc.relnamespace
  LEFT JOIN pg_proc p ON d.refclassid = 'pg_proc'::regclass AND p.oid = d.refobjid
  LEFT JOIN pg_namespace pn ON pn.oid = p.pronamespace
  WHERE ad.adrelid = ANY ($1::oid[]) AND (sc.oid IS NOT NULL OR p.oid IS NOT NULL)
  UNION ALL
  SELECT k.conrelid, 'constraint ' || quote_ident(k.conname), 'function', pn.nspname, p.proname, p.oid, 'pg_proc'::regclass
  FROM pg_constraint k JOIN pg_depend d ON d.classid = 'pg_constraint'::regclass AND d.objid = k.oid AND d.refclassid = 'pg_proc'::regclass AND d.deptype = 'n'
  JOIN pg_proc p ON p.oid = d.refobjid JOIN pg_namespace pn ON pn.oid = p.pronamespace
  WHERE k.conrelid = ANY ($1::oid[]) AND k.contype = 'c'
)
SELECT DISTINCT rel::int8::text AS rel, used_by, kind, schema, name
FROM deps
WHERE schema NOT IN ('pg_catalog', 'information_schema')
  AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = deps.cls AND e.objid = deps.obj AND e.deptype = 'e')
ORDER BY 1, 2`;

export const integrityDependencies: CheckDef = {
  id: 'integrity.dependencies',
  title: 'Objects used by selected tables are selected',
  level: 'error',
  needs: ['source', 'target', 'model'],
  async run(ctx) {
    const m = ctx.model!;
    if (!m.tables.length) return passed('no tables selected');
    const r = await ctx.source!.query<{
      rel: string;
      used_by: string;
      kind: 'type' | 'sequence' | 'function';
      schema: string;
      name: string;
    }>(DEPS_SQL, [m.tables.map((t) => t.oid)]);
    const outside = r.rows.filter((d) => !ctx.sel.schemaSelected(d.schema));
    if (!outside.length)
      return passed('every type, sequence and function used by the selected tables is selected or built in');
    // Those already present on the target under the same name are fine.
    const t = await ctx.target!.query<{ i: number; ok: boolean }>(
      `SELECT w.i, CASE w.kind
          WHEN 'type' THEN EXISTS (SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = w.schema AND t.typname = w.name)
          WHEN 'sequence' THEN EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = w.schema AND c.relname = w.name AND c.relkind = 'S')
          ELSE EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = w.schema AND p.proname = w.name) END AS ok
       FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS w(kind, schema, name, i)`,
      [outside.map((d) => d.kind), outside.map((d) => d.schema), outside.map((d) => d.name)],
    );
    const present = new Set(t.rows.filter((x) => x.ok).map((x) => Number(x.i) - 1));
    const byOid = new Map(m.tables.map((x) => [x.oid, x]));
    const missing = outside
      .filter((_, i) => !present.has(i))
      .map(
        (d) =>
          `${byOid.get(d.rel)!.key} ${d.used_by} uses ${d.kind} ${qualify(d.schema, d.name)} (schema not selected)`,
      );
    if (!missing.length)
      return passed(`${plural(outside.length, 'object')} from schemas not selected already exist on the target`);
    const schemas = [...new Set(outside.filter((_, i) => !present.has(i)).map((d) => d.schema))];
    return failed(
      `selected tables use ${plural(missing.length, 'object')} from schemas that are not selected and missing on the target`,
      missing,
      `select schema(s) ${schemas.map(quoteIdent).join(', ')} too (--include-schema), or create these objects on the target first`,
    );
  },
};

/**
 * extensions.available: extensions the selected objects need (those installed in a selected
 * schema, and those whose types selected columns use) must be available on the target.
 */
import { failed, passed, plural, warning, type CheckDef, type Ctx } from './types.js';

export interface NeededExtension {
  name: string;
  version: string;
  schema: string;
}

const cache = new WeakMap<Ctx, Promise<NeededExtension[]>>();

export function neededExtensions(ctx: Ctx): Promise<NeededExtension[]> {
  let p = cache.get(ctx);
  if (!p) {
    p = load(ctx);
    cache.set(ctx, p);
  }
  return p;
}

async function load(ctx: Ctx): Promise<NeededExtension[]> {
  const c = ctx.source!;
  const m = ctx.model!;
  const all = await c.query<NeededExtension>(
    `SELECT e.extname AS name, e.extversion AS version, n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname <> 'plpgsql' ORDER BY 1`,
  );
  const used = new Set<string>();
  if (m.tables.length) {
    const r = await c.query<{ name: string }>(
      `SELECT DISTINCT e.extname AS name
       FROM pg_attribute a
       JOIN pg_type t ON t.oid = a.atttypid
       JOIN pg_depend d ON d.classid = 'pg_type'::regclass AND d.deptype = 'e'
            AND d.objid = CASE WHEN t.typcategory = 'A' THEN t.typelem ELSE t.oid END
       JOIN pg_extension e ON e.oid = d.refobjid
       WHERE a.attrelid = ANY ($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped`,
      [m.tables.map((t) => t.oid)],
    );
    for (const x of r.rows) used.add(x.name);
  }
  return all.rows.filter((e) => used.has(e.name) || ctx.sel.schemaSelected(e.schema));
}

export const extensionsAvailable: CheckDef = {
  id: 'extensions.available',
  title: 'Extensions available on the target',
  level: 'error',
  needs: ['source', 'target', 'model'],
  async run(ctx) {
    const exts = await neededExtensions(ctx);
    if (!exts.length) return passed('the selected objects use no extensions');
    const r = await ctx.target!.query<{ name: string; versions: string[] | null; installed: string | null }>(
      `SELECT e.name, (SELECT array_agg(v.version) FROM pg_available_extension_versions v WHERE v.name = e.name) AS versions,
              (SELECT x.extversion FROM pg_extension x WHERE x.extname = e.name) AS installed
       FROM unnest($1::text[]) AS e(name)`,
      [exts.map((e) => e.name)],
    );
    const byName = new Map(r.rows.map((x) => [x.name, x]));
    const missing: string[] = [];
    const older: string[] = [];
    for (const e of exts) {
      const t = byName.get(e.name)!;
      if (!t.versions?.length && !t.installed) {
        missing.push(`${e.name} ${e.version}`);
        continue;
      }
      if (t.installed && t.installed !== e.version)
        older.push(`${e.name}: source ${e.version}, installed on target ${t.installed}`);
      else if (!t.installed && !t.versions!.includes(e.version))
        older.push(`${e.name}: source ${e.version}, target offers ${t.versions!.join(', ')}`);
    }
    if (missing.length) {
      return failed(
        `${plural(missing.length, 'extension')} used on the source ${missing.length === 1 ? 'is' : 'are'} not available on the target`,
        [...missing, ...older],
        'install the extension packages on the target server (e.g. apt-get install postgresql-<major>-<extension>), or leave the objects that use them out of the selection',
      );
    }
    if (older.length) {
      return warning(
        `${plural(older.length, 'extension')} differ in version between source and target`,
        older,
        'the target creates its own version; check the extension release notes, or ALTER EXTENSION ... UPDATE on the source first',
      );
    }
    return passed(`${plural(exts.length, 'extension')} available on the target: ${exts.map((e) => e.name).join(', ')}`);
  },
};

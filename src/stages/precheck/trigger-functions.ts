/**
 * integrity.trigger-functions: triggers of selected tables whose function lives in a schema
 * that is not selected (and is not on the target already). CREATE TRIGGER would fail after
 * the data is copied; the fix is to select the function's schema or leave the trigger out.
 */
import { qualify, quoteIdent } from '../../core/ident.js';
import { failed, passed, plural, type CheckDef } from './types.js';

const SQL = `
SELECT t.tgrelid::int8::text AS rel, t.tgname AS trigger, pn.nspname AS schema, p.proname AS name
FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_namespace pn ON pn.oid = p.pronamespace
WHERE t.tgrelid = ANY ($1::oid[]) AND NOT t.tgisinternal AND coalesce((to_jsonb(t) ->> 'tgparentid')::oid, 0) = 0
  AND pn.nspname NOT IN ('pg_catalog', 'information_schema')
  AND NOT EXISTS (SELECT 1 FROM pg_depend e
                  WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid AND e.deptype = 'e')
ORDER BY 1, 2`;

const ON_TARGET = `
SELECT w.i, EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                    WHERE n.nspname = w.schema AND p.proname = w.name AND p.pronargs = 0) AS ok
FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS w(schema, name, i)`;

interface Row {
  rel: string;
  trigger: string;
  schema: string;
  name: string;
}

export const integrityTriggerFunctions: CheckDef = {
  id: 'integrity.trigger-functions',
  title: 'Trigger functions selected',
  level: 'error',
  needs: ['source', 'model'],
  async run(ctx) {
    const m = ctx.model!;
    const byOid = new Map(m.tables.map((t) => [t.oid, t]));
    const rows = (await ctx.source!.query<Row>(SQL, [m.tables.map((t) => t.oid)])).rows;
    let outside = rows.filter((r) => {
      const t = byOid.get(r.rel)!;
      return !ctx.sel.schemaSelected(r.schema) && !ctx.sel.triggerExcluded(t.schema, t.name, r.trigger);
    });
    if (outside.length && ctx.target) {
      const args = [outside.map((r) => r.schema), outside.map((r) => r.name)];
      const t = await ctx.target.query<{ i: string; ok: boolean }>(ON_TARGET, args);
      const present = new Set(t.rows.filter((x) => x.ok).map((x) => Number(x.i) - 1));
      outside = outside.filter((_, i) => !present.has(i));
    }
    if (!outside.length) {
      return passed(`${plural(rows.length, 'trigger')} of selected tables, every function selected or on the target`);
    }
    const objects = outside.map((r) => {
      const t = byOid.get(r.rel)!;
      const fn = `${qualify(r.schema, r.name)}()`;
      return `${t.key} trigger ${quoteIdent(r.trigger)} executes ${fn} (schema ${quoteIdent(r.schema)} not selected)`;
    });
    const schemas = [...new Set(outside.map((r) => r.schema))].map((s) => `--include-schema ${quoteIdent(s)}`);
    const leave = outside.map((r) => `--exclude-trigger ${byOid.get(r.rel)!.key}.${quoteIdent(r.trigger)}`);
    const verb = outside.length === 1 ? 'executes a function' : 'execute functions';
    const more = objects.length > 1 ? ` (and ${objects.length - 1} more)` : '';
    const n = plural(outside.length, 'trigger');
    return failed(
      `${n} of selected tables ${verb} outside the selection: ${objects[0]}${more}`,
      objects,
      `include the function's schema (${schemas.join(' ')}, next to the other --include-schema flags), ` +
        `or leave the trigger out (${leave.join(' ')}; task file: excludeTriggers)`,
    );
  },
};

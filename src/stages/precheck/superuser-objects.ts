/**
 * objects.superuser: base types (CREATE TYPE t (INPUT = …)), LANGUAGE internal functions, and (global)
 * foreign-data wrappers outside extensions and event triggers can only be created by a superuser. When the target account is none, the schema stage would stop at the
 * first of them: listed here before anything is written, with the schema to leave out.
 */
import { qualify, quoteIdent } from '../../core/ident.js';
import { USER_NS, notExt } from '../schema/catalog/sql/common.js';
import { introspect } from '../schema/catalog/introspect.js';
import { keptObjects } from '../schema/ddl/closure.js';
import { failed, passed, plural, type CheckDef } from './types.js';

const OBJECTS_SQL = `
SELECT 'base type' AS kind, n.nspname AS schema, t.typname AS name, NULL AS args
FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE t.typtype = 'b' AND ${USER_NS} AND ${notExt('pg_type', 't.oid')}
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type e WHERE e.typarray = t.oid)
UNION ALL
SELECT 'LANGUAGE internal function', n.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid)
FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE p.prolang = (SELECT oid FROM pg_catalog.pg_language WHERE lanname = 'internal') AND ${USER_NS} AND ${notExt('pg_proc', 'p.oid')}
UNION ALL
SELECT 'foreign-data wrapper', NULL, w.fdwname, NULL FROM pg_catalog.pg_foreign_data_wrapper w
WHERE ${notExt('pg_foreign_data_wrapper', 'w.oid')}
UNION ALL
SELECT 'event trigger', NULL, e.evtname, NULL FROM pg_catalog.pg_event_trigger e
WHERE ${notExt('pg_event_trigger', 'e.oid')}
ORDER BY 2 NULLS FIRST, 1, 3`;

type Row = { kind: string; schema: string | null; name: string; args: string | null };

/** What the fix names: the schemas to leave out, and for global objects a schema filter (they then stay behind). */
function fixHint(found: Row[]): string {
  const schemas = [...new Set(found.flatMap((x) => (x.schema === null ? [] : [x.schema])))];
  const ways = schemas.length
    ? [`leave the schema out: ${schemas.map((s) => `--exclude-schema ${JSON.stringify(s)}`).join(' ')}`]
    : [];
  if (found.some((x) => x.schema === null))
    ways.push('migrate with --include-schema (foreign-data wrappers and event triggers then stay behind)');
  return `run as a superuser on the target, or ${ways.join('; and ')}`;
}

export const objectsSuperuser: CheckDef = {
  id: 'objects.superuser',
  title: 'Objects only a superuser can create',
  level: 'error',
  skippable: true,
  needs: ['source', 'target'],
  async run(ctx) {
    const su = await ctx.target!.query<{ su: boolean }>(
      `SELECT rolsuper AS su FROM pg_catalog.pg_roles WHERE rolname = current_user`,
    );
    if (su.rows[0]?.su) return passed('the target account is a superuser');
    const r = await ctx.source!.query<Row>(OBJECTS_SQL);
    // with --include-table only what the tables need is created (ddl/closure.ts)
    const keep = ctx.sel.task.includeTables.length
      ? keptObjects(ctx.catalog ?? (await introspect(ctx.source!)), ctx.sel)
      : undefined;
    const kept = (x: Row & { schema: string }) =>
      !keep || keep(x.kind === 'base type' ? 'types' : 'functions', x.schema, x.name);
    // global objects go along only without a schema filter (ddl/families)
    const globals = ctx.sel.task.includeSchemas.length === 0;
    const found = r.rows.filter((x) =>
      x.schema === null ? globals : ctx.sel.schemaSelected(x.schema) && kept({ ...x, schema: x.schema }),
    );
    if (!found.length) return passed('nothing selected needs a superuser on the target');
    const name = (x: Row) => (x.schema === null ? quoteIdent(x.name) : qualify(x.schema, x.name));
    return failed(
      `${plural(found.length, 'object')} can only be created by a superuser, and the target account is none`,
      found.map((x) => `${x.kind} ${name(x)}${x.args === null ? '' : `(${x.args})`}`),
      fixHint(found),
    );
  },
};

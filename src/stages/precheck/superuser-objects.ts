/**
 * objects.superuser: base types (CREATE TYPE t (INPUT = …)) and LANGUAGE internal functions can only
 * be created by a superuser. When the target account is none, the schema stage would stop at the
 * first of them: listed here before anything is written, with the schema to leave out.
 */
import { qualify } from '../../core/ident.js';
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
ORDER BY 2, 1, 3`;

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
    const r = await ctx.source!.query<{ kind: string; schema: string; name: string; args: string | null }>(OBJECTS_SQL);
    // with --include-table only what the tables need is created (ddl/closure.ts)
    const keep = ctx.sel.task.includeTables.length
      ? keptObjects(ctx.catalog ?? (await introspect(ctx.source!)), ctx.sel)
      : undefined;
    const kept = (x: { kind: string; schema: string; name: string }) =>
      !keep || keep(x.kind === 'base type' ? 'types' : 'functions', x.schema, x.name);
    const found = r.rows.filter((x) => ctx.sel.schemaSelected(x.schema) && kept(x));
    if (!found.length) return passed('nothing selected needs a superuser on the target');
    const schemas = [...new Set(found.map((x) => x.schema))];
    return failed(
      `${plural(found.length, 'object')} can only be created by a superuser, and the target account is none`,
      found.map((x) => `${x.kind} ${qualify(x.schema, x.name)}${x.args === null ? '' : `(${x.args})`}`),
      `run as a superuser on the target, or leave the schema out: ${schemas.map((s) => `--exclude-schema ${JSON.stringify(s)}`).join(' ')}`,
    );
  },
};

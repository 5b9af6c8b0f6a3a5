/**
 * objects.unsupported: objects a logical migration does not carry or that need more than SQL on
 * the target: C functions outside extensions (shared library), subscriptions, publications (their
 * subscribers), non-default tablespaces, user mapping passwords, foreign tables, large objects
 * (when a schema or table filter keeps them out).
 * (Everything the schema stage cannot create is also listed, with its reason, as notMigrated.)
 */
import { qualify, quoteIdent } from '../../core/ident.js';
import { notExt } from '../schema/catalog/sql/common.js';
import { passed, plural, warning, type CheckDef } from './types.js';
import { copiesLargeObjects } from '../../core/selection.js';

export const objectsUnsupported: CheckDef = {
  id: 'objects.unsupported',
  title: 'Objects needing manual work',
  level: 'warning',
  needs: ['source', 'model'],
  async run(ctx) {
    const c = ctx.source!;
    const m = ctx.model!;
    const schemas = m.schemas.map((s) => s.name);
    const found: string[] = [];
    const cfuncs = await c.query<{ schema: string; name: string; args: string; lib: string | null }>(
      `SELECT n.nspname AS schema, p.proname AS name, pg_get_function_identity_arguments(p.oid) AS args, p.probin AS lib
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
       WHERE l.lanname = 'c' AND n.nspname = ANY ($1::text[]) AND ${notExt('pg_proc', 'p.oid')} ORDER BY 1, 2`,
      [schemas],
    );
    for (const f of cfuncs.rows)
      found.push(
        `function ${qualify(f.schema, f.name)}(${f.args}): C language outside an extension — install ${f.lib ?? 'its shared library'} on the target server`,
      );
    const subs = await c
      .query<{ name: string }>(
        `SELECT subname AS name FROM pg_subscription WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY 1`,
      )
      .catch(() => ({ rows: [] as { name: string }[] }));
    for (const s of subs.rows)
      found.push(
        `subscription ${quoteIdent(s.name)}: not migrated — recreate it on the target (it needs its own replication slot)`,
      );
    const pubs = await c.query<{ name: string }>(`SELECT pubname AS name FROM pg_publication ORDER BY 1`);
    for (const p of pubs.rows)
      found.push(
        `publication ${quoteIdent(p.name)}: created on the target, but its subscribers are not moved — re-point them (the target needs wal_level = logical)`,
      );
    const ts = await c.query<{ kind: string; schema: string; name: string; spc: string }>(
      `SELECT CASE WHEN c.relkind IN ('i', 'I') THEN 'index' ELSE 'table' END AS kind, n.nspname AS schema, c.relname AS name, t.spcname AS spc
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_tablespace t ON t.oid = c.reltablespace
       WHERE c.reltablespace <> 0 AND (c.oid = ANY ($1::oid[]) OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = ANY ($1::oid[]))) ORDER BY 2, 3`,
      [m.tables.map((t) => t.oid)],
    );
    for (const r of ts.rows)
      found.push(
        `${r.kind} ${qualify(r.schema, r.name)}: in tablespace ${quoteIdent(r.spc)} — created in the target's default tablespace`,
      );
    const ump = await c.query<{ name: string; server: string }>(
      `SELECT CASE WHEN u.umuser = 0 THEN 'PUBLIC' ELSE u.usename::text END AS name, u.srvname AS server FROM pg_user_mappings u
       WHERE EXISTS (SELECT 1 FROM pg_options_to_table(u.umoptions) o WHERE o.option_name = 'password') ORDER BY 2, 1`,
    );
    for (const u of ump.rows)
      found.push(
        `user mapping for ${u.name === 'PUBLIC' ? 'PUBLIC' : quoteIdent(u.name)} server ${quoteIdent(u.server)}: its password is not migrated — set it on the target`,
      );
    const ft = await c.query<{ schema: string; name: string }>(
      `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind = 'f' AND n.nspname = ANY ($1::text[]) ORDER BY 1, 2`,
      [schemas],
    );
    for (const f of ft.rows)
      found.push(`foreign table ${qualify(f.schema, f.name)}: definition only, its rows live on the remote server`);
    const lo = await c.query<{ n: string }>(`SELECT count(*)::text AS n FROM pg_largeobject_metadata`);
    // Large objects are copied with whole-database migrations only (as pg_dump does).
    if (Number(lo.rows[0].n) > 0 && !copiesLargeObjects(ctx.task)) {
      found.push(
        `${plural(Number(lo.rows[0].n), 'large object')}: not migrated when schemas or tables are selected — migrate the whole database, or copy them with pg_dump --large-objects`,
      );
    }
    if (!found.length) return passed('nothing that needs manual work');
    return warning(
      `${plural(found.length, 'object')} need manual work on the target`,
      found,
      'see the reason given with each object',
    );
  },
};

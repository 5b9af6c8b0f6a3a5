/**
 * collations: collations used by selected columns and indexes must exist on the target (those
 * outside the selection by name, those inside with their locale available: libc vs ICU);
 * different collation versions (glibc/ICU) and database default locales are warnings.
 */
import { qualify } from '../../core/ident.js';
import { failed, passed, plural, warning, type CheckDef } from './types.js';

const USED_SQL = `
WITH used AS (
  SELECT a.attcollation AS coll FROM pg_attribute a WHERE a.attrelid = ANY ($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped AND a.attcollation <> 0
  UNION
  SELECT unnest(i.indcollation::oid[]) FROM pg_index i WHERE i.indrelid = ANY ($1::oid[])
)
SELECT n.nspname AS schema, co.collname AS name, co.collprovider::text AS provider,
       coalesce(to_jsonb(co) ->> 'colllocale', to_jsonb(co) ->> 'colliculocale', co.collcollate) AS locale,
       to_jsonb(co) ->> 'collversion' AS version
FROM used JOIN pg_collation co ON co.oid = used.coll JOIN pg_namespace n ON n.oid = co.collnamespace
WHERE used.coll <> 0 AND NOT (n.nspname = 'pg_catalog' AND co.collname = 'default')
ORDER BY 1, 2`;

const DB_SQL = `SELECT d.datcollate AS collate, d.datctype AS ctype, coalesce(to_jsonb(d) ->> 'datlocprovider', 'c') AS provider,
  coalesce(to_jsonb(d) ->> 'datlocale', to_jsonb(d) ->> 'daticulocale', '') AS icu, to_jsonb(d) ->> 'datcollversion' AS version
  FROM pg_database d WHERE d.datname = current_database()`;

const PROVIDER: Record<string, string> = { c: 'libc', i: 'ICU', d: 'default', b: 'builtin' };

export const collations: CheckDef = {
  id: 'collations',
  title: 'Collations',
  level: 'error',
  skippable: true,
  needs: ['source', 'target', 'model'],
  async run(ctx) {
    const m = ctx.model!;
    const used = m.tables.length
      ? (
          await ctx.source!.query<{
            schema: string;
            name: string;
            provider: string;
            locale: string | null;
            version: string | null;
          }>(USED_SQL, [m.tables.map((t) => t.oid)])
        ).rows
      : [];
    const missing: string[] = [];
    const notes: string[] = [];
    const t = ctx.target!;
    for (const u of used) {
      const q = qualify(u.schema, u.name);
      if (ctx.sel.schemaSelected(u.schema)) {
        // Created by the migration: its locale must be available on the target.
        const r = await t.query<{ ok: boolean }>(
          u.provider === 'i'
            ? `SELECT EXISTS (SELECT 1 FROM pg_collation WHERE collprovider = 'i') AS ok`
            : u.provider === 'b'
              ? `SELECT EXISTS (SELECT 1 FROM pg_collation WHERE collprovider = 'b') AS ok`
              : `SELECT $1 IN ('C', 'POSIX') OR EXISTS (SELECT 1 FROM pg_collation WHERE collprovider = 'c' AND collcollate = $1) AS ok`,
          u.provider === 'i' || u.provider === 'b' ? [] : [u.locale ?? ''],
        );
        if (!r.rows[0].ok)
          missing.push(
            `${q}: ${PROVIDER[u.provider] ?? u.provider} locale ${u.locale ?? '?'} is not available on the target`,
          );
        continue;
      }
      const r = await t.query<{ provider: string; version: string | null }>(
        `SELECT co.collprovider::text AS provider, to_jsonb(co) ->> 'collversion' AS version FROM pg_collation co JOIN pg_namespace n ON n.oid = co.collnamespace
         WHERE n.nspname = $1 AND co.collname = $2 AND co.collencoding IN (-1, (SELECT encoding FROM pg_database WHERE datname = current_database()))`,
        [u.schema, u.name],
      );
      const tr = r.rows[0];
      if (!tr) {
        missing.push(
          `${q} (${PROVIDER[u.provider] ?? u.provider}, locale ${u.locale ?? '?'}): does not exist on the target`,
        );
        continue;
      }
      if (tr.provider !== u.provider)
        missing.push(`${q}: ${PROVIDER[u.provider]} on the source, ${PROVIDER[tr.provider]} on the target`);
      else if (u.version && tr.version && u.version !== tr.version)
        notes.push(
          `${q}: version ${u.version} on the source, ${tr.version} on the target (different glibc/ICU: sort order may differ)`,
        );
    }
    const sd = (await ctx.source!.query(DB_SQL)).rows[0];
    const td = (await t.query(DB_SQL)).rows[0];
    if (sd.collate !== td.collate || sd.ctype !== td.ctype || sd.provider !== td.provider || sd.icu !== td.icu) {
      notes.push(
        `database default: source ${PROVIDER[sd.provider]} ${sd.icu || sd.collate}/${sd.ctype}, target ${PROVIDER[td.provider]} ${td.icu || td.collate}/${td.ctype} — text sorts and compares differently`,
      );
    } else if (sd.version && td.version && sd.version !== td.version) {
      notes.push(
        `database default collation version: source ${sd.version}, target ${td.version} (different glibc/ICU)`,
      );
    }
    if (missing.length) {
      return failed(
        `${plural(missing.length, 'collation')} used by selected columns or indexes missing on the target`,
        [...missing, ...notes],
        'create the collations on the target (CREATE COLLATION ... (provider = ..., locale = ...)), install the OS locale / use an ICU-enabled build, or select their schema',
      );
    }
    if (notes.length)
      return warning(
        `${plural(notes.length, 'collation difference')} between source and target`,
        notes,
        'indexes are built on the target, but ORDER BY and comparisons may give different results; align locales if that matters',
      );
    return passed(
      used.length
        ? `${plural(used.length, 'collation')} used, all available on the target`
        : 'only the database default collation is used',
    );
  },
};

/**
 * columns.oid-types: selected columns whose values are OIDs — `oid` or a reg* type (regclass,
 * regtype, regproc…), directly or through a domain, array, range or composite type. OIDs name
 * objects in the source's catalogs: reg* values are copied as names (text COPY) and resolved on
 * the target, so each object they name must exist there; plain `oid` values are copied as
 * numbers and point at nothing, or at something else, on the target.
 */
import { quoteIdent } from '../../core/ident.js';
import { REG_TYPES } from '../../pg/oid-types.js';
import { passed, plural, warning, type CheckDef } from './types.js';

const OID_TYPES = ['oid', ...REG_TYPES];

// Columns of the given tables whose type is, or contains, an OID type (PostgreSQL 10..17).
const OID_COLUMNS_SQL = `
WITH RECURSIVE walk(rel, col, typ, depth) AS (
  SELECT a.attrelid, a.attname, a.atttypid, 0
    FROM pg_attribute a
   WHERE a.attrelid = ANY ($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
     AND coalesce(to_jsonb(a) ->> 'attgenerated', '') = ''
  UNION ALL
  SELECT w.rel, w.col, n.typ, w.depth + 1
    FROM walk w
    JOIN pg_type t ON t.oid = w.typ
    CROSS JOIN LATERAL (
      SELECT t.typbasetype AS typ WHERE t.typtype = 'd'
      UNION ALL SELECT t.typelem WHERE t.typtype <> 'd' AND t.typelem <> 0 AND t.typlen = -1
      UNION ALL SELECT r.rngsubtype FROM pg_range r WHERE t.typtype = 'r' AND r.rngtypid = t.oid
      UNION ALL SELECT f.atttypid FROM pg_attribute f
       WHERE t.typtype = 'c' AND f.attrelid = t.typrelid AND f.attnum > 0 AND NOT f.attisdropped
    ) n
   WHERE w.depth < 32
)
SELECT DISTINCT w.rel::int8::text AS rel, w.col, format_type(a.atttypid, a.atttypmod) AS type
  FROM walk w
  JOIN pg_type t ON t.oid = w.typ
  JOIN pg_attribute a ON a.attrelid = w.rel AND a.attname = w.col
 WHERE t.typnamespace = 'pg_catalog'::regnamespace AND t.typname = ANY ($2::text[])
 ORDER BY 1, 2`;

export const columnsOidTypes: CheckDef = {
  id: 'columns.oid-types',
  title: 'Columns holding OIDs',
  level: 'warning',
  needs: ['source', 'model'],
  async run(ctx) {
    const tables = ctx.model!.tables.filter((t) => t.kind === 'r');
    if (!tables.length) return passed('no selected table has a column holding OIDs');
    const byOid = new Map(tables.map((t) => [t.oid, t]));
    const r = await ctx.source!.query<{ rel: string; col: string; type: string }>(OID_COLUMNS_SQL, [
      tables.map((t) => t.oid),
      OID_TYPES,
    ]);
    const found: string[] = [];
    for (const row of r.rows) {
      const t = byOid.get(row.rel);
      const subset = t && ctx.sel.columnSubset(t.schema, t.name);
      if (!t || (subset && !subset.includes(row.col))) continue;
      found.push(`${t.key}.${quoteIdent(row.col)} (${row.type})`);
    }
    if (!found.length) return passed('no selected column holds OIDs');
    const verb = found.length === 1 ? 'holds' : 'hold';
    return warning(
      `${plural(found.length, 'selected column')} ${verb} OIDs of source objects`,
      found,
      'reg* values (regclass, regtype, regproc…) are copied as names and resolved on the target: every object ' +
        'they name must exist there, in a schema the target account may use, or the copy of that table fails; ' +
        'plain oid values are copied as numbers and ' +
        'name nothing (or another object) on the target — store names instead, or leave the column out ' +
        '(tables.<schema.table>.columns)',
    );
  },
};

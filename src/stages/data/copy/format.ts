/**
 * COPY format per table. Binary COPY is faster, but only means the same on the target when
 * every column's binary form can be received there:
 *  - the type (looking through domains, arrays, ranges, multiranges and composite types) has
 *    binary send and receive functions — a type with text I/O only makes binary COPY fail;
 *  - the value carries no OID that names something in the source's catalogs: reg* types
 *    (regclass, regtype, regproc…) travel as raw OIDs, which on the target point at nothing or
 *    at another object; as text they travel as names, resolved on the target;
 *  - arrays and composite values embed the OID of their element or field types. Receivers before
 *    PostgreSQL 15 check it ("wrong element type"): there only built-in types (OID below 10000,
 *    the same on every server) pass; PostgreSQL 15 and later ignore OIDs that are not built in.
 * Any other table goes as text, with the column and type that decided it.
 */
import type pg from 'pg';
import { qualify, quoteIdent } from '../../../core/ident.js';
import type { CopyTable } from '../plan/types.js';
import { REG_TYPES } from '../../../pg/oid-types.js';

export type Format = 'text' | 'binary';

/** Why a table cannot go as binary: the first column whose type forbids it. */
export interface TextReason {
  column: string;
  type: string;
  why: 'no-binary-io' | 'oid-type' | 'embedded-oid';
  /** Some column holds reg* values: they travel as names, schema-qualified (sessions run on an empty search_path). */
  regNames: boolean;
}

// Every type reachable from a column: domains → base type, arrays → element (its OID is
// embedded), ranges/multiranges → subtype, composites → field types (their OIDs embedded).
// Catalog columns of PostgreSQL 10..17 only; rngmultitypid (14+) is read through to_jsonb.
const TYPE_WALK_SQL = `
WITH RECURSIVE col AS (
  SELECT p.i, p.col, a.atttypid AS typ
    FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS p(rel, col, i)
    JOIN pg_attribute a ON a.attrelid = p.rel::regclass AND a.attname = p.col AND NOT a.attisdropped
), walk(i, typ, embedded, depth) AS (
  SELECT i, typ, false, 0 FROM col
  UNION ALL
  SELECT w.i, n.typ, n.embedded, w.depth + 1
    FROM walk w
    JOIN pg_type t ON t.oid = w.typ
    CROSS JOIN LATERAL (
      SELECT t.typbasetype AS typ, false AS embedded WHERE t.typtype = 'd'
      UNION ALL
      SELECT t.typelem, true WHERE t.typtype <> 'd' AND t.typelem <> 0 AND t.typlen = -1
      UNION ALL
      SELECT r.rngsubtype, false FROM pg_range r
       WHERE (t.typtype = 'r' AND r.rngtypid = t.oid)
          OR (t.typtype = 'm' AND (to_jsonb(r) ->> 'rngmultitypid')::oid = t.oid)
      UNION ALL
      SELECT f.atttypid, true FROM pg_attribute f
       WHERE t.typtype = 'c' AND f.attrelid = t.typrelid AND f.attnum > 0 AND NOT f.attisdropped
    ) n
   WHERE w.depth < 32
)
SELECT w.i::int AS i, format_type(t.oid, NULL) AS type,
       CASE WHEN t.typnamespace = 'pg_catalog'::regnamespace AND t.typname = ANY ($3::text[]) THEN 'oid-type'
            WHEN t.typtype <> 'd' AND (t.typsend = 0 OR t.typreceive = 0) THEN 'no-binary-io'
            WHEN w.embedded AND t.oid >= 10000 AND $4 THEN 'embedded-oid' END AS why
  FROM walk w JOIN pg_type t ON t.oid = w.typ
 ORDER BY w.i, w.depth`;

interface WalkRow {
  i: number;
  type: string;
  why: TextReason['why'] | null;
}

/** Does the target's array_recv/record_recv reject element and field type OIDs that differ? */
export function checksEmbeddedOids(targetVersion: number): boolean {
  return targetVersion < 150000;
}

/**
 * For every table that cannot go as binary into a server of `targetVersion`, the reason (read
 * on the source, inside the caller's transaction). Tables not in the map can go either way.
 */
export async function textOnlyTables(
  c: pg.Client,
  tables: CopyTable[],
  targetVersion: number,
): Promise<Map<string, TextReason>> {
  const rels: string[] = [];
  const cols: string[] = [];
  const owner: { table: CopyTable; column: string }[] = [];
  for (const t of tables) {
    for (const col of t.columns) {
      rels.push(qualify(t.source.schema, t.source.name));
      cols.push(col.source);
      owner.push({ table: t, column: col.source });
    }
  }
  const out = new Map<string, TextReason>();
  if (rels.length === 0) return out;
  const r = await c.query<WalkRow>(TYPE_WALK_SQL, [rels, cols, REG_TYPES, checksEmbeddedOids(targetVersion)]);
  for (const row of r.rows) {
    if (!row.why) continue;
    const o = owner[row.i - 1];
    const first = out.get(o.table.key) ?? { column: o.column, type: row.type, why: row.why, regNames: false };
    if (row.why === 'oid-type') first.regNames = true;
    out.set(o.table.key, first);
  }
  return out;
}

/** The reason in words, e.g. `column "r" (regclass): …`. */
export function describeTextReason(r: TextReason): string {
  const what =
    r.why === 'oid-type'
      ? 'binary COPY would send raw OIDs that name nothing (or something else) on the target; ' +
        'as text they travel as names'
      : r.why === 'no-binary-io'
        ? 'the type has no binary send/receive functions'
        : 'its binary form embeds the OID of a type that is not built in, which differs on the target ' +
          'and is rejected there';
  return `column ${quoteIdent(r.column)} (type ${r.type}): ${what}`;
}

/** The table's format: the run's format, unless the table can only go as text. */
export function tableFormat(runFormat: Format, reason: TextReason | undefined): Format {
  return runFormat === 'binary' && !reason ? 'binary' : 'text';
}

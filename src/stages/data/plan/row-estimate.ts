/**
 * A table's row estimate from the catalog: pg_class.reltuples when PostgreSQL has statistics, else a
 * guess from the heap's size as the planner makes one. The copy's progress totals (units.ts) and the
 * service's object picker (server/catalog-query.ts) both read it, with SIZE_COLUMNS in their query.
 */

/**
 * The columns estimatedRows reads, over the pg_class row `c` of a table; `heap` is the expression of
 * its heap's size in bytes (default: pg_relation_size, which takes the table's ACCESS SHARE lock).
 */
export const SIZE_COLUMNS = (
  c: string,
  heap = `pg_catalog.pg_relation_size(${c}.oid)`,
) => `(${heap})::int8::text AS heap_bytes,
       greatest(${c}.reltuples, 0)::int8::text AS reltuples, pg_catalog.current_setting('block_size') AS block_size,
       NOT (${c}.reltuples < 0 OR (${c}.relpages = 0 AND (${heap}) > 0)) AS has_stats,
       (SELECT coalesce(sum(CASE WHEN a.attlen > 0 THEN a.attlen ELSE 32 END), 0)::int
          FROM pg_attribute a WHERE a.attrelid = ${c}.oid AND a.attnum > 0 AND NOT a.attisdropped) AS data_width`;

/** SIZE_COLUMNS as the query returns them. */
export interface SizeRow {
  heap_bytes: string;
  reltuples: string;
  block_size: string;
  /** false: reltuples < 0 (14+: never analyzed), or none yet for a heap that has pages now. */
  has_stats: boolean;
  data_width: number;
}

/** PostgreSQL's page header and line pointer, and a heap tuple's header, MAXALIGNed (bytes). */
const PAGE_HEADER = 24;
const ITEM_ID = 4;
const TUPLE_HEADER = 24;

/**
 * Rows of a table PostgreSQL has no statistics for, from its heap size, as the planner guesses them
 * (estimate_rel_size): pages × tuples per page, a tuple being its columns' widths (32 bytes for a
 * variable-length one) plus its header and line pointer.
 */
export function estimateFromSize(bytes: number, blockSize: number, dataWidth: number): number {
  const perPage = Math.max(1, Math.floor((blockSize - PAGE_HEADER) / (dataWidth + TUPLE_HEADER + ITEM_ID)));
  return Math.ceil(bytes / blockSize) * perPage;
}

/** The table's row estimate: its statistics, or the guess from its size without them. */
export function estimatedRows(row: SizeRow): number {
  if (row.has_stats) return Number(row.reltuples);
  return estimateFromSize(Number(row.heap_bytes), Number(row.block_size), row.data_width);
}

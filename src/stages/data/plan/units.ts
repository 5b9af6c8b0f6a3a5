/**
 * Copy units: a table is copied as one unit, or — above copy.splitThresholdMB — as ctid
 * block ranges of about copy.unitMB each, so that several workers share a big table.
 * The last range is open-ended, so rows in blocks past the size measured at planning time
 * are covered too. On PostgreSQL 14+ a ctid range predicate is a TID Range Scan (reads only
 * those blocks); older servers would scan the whole table per unit, so there tables are not
 * split (measured slower, see planBoundaries).
 *
 * A table's plan (its block boundaries) is stored on the target the first time it is made
 * and reused on every resume, so a resume never re-slices ranges already copied.
 */
import type pg from 'pg';
import { qualify, quoteIdent } from '../../../core/ident.js';
import { checkRowFilter } from '../../../core/filter.js';
import { withStartPath } from '../../../pg/search-path.js';
import type { CopyTable } from './types.js';
import { unitKey } from '../../../state/keys.js';
import { estimatedRows, SIZE_COLUMNS, type SizeRow } from './row-estimate.js';

export interface TableSize {
  key: string;
  /** Heap size in bytes (pg_relation_size, main fork). */
  bytes: number;
  /** Heap blocks measured now. */
  blocks: number;
  blockSize: number;
  /**
   * Rows the copy is expected to move (the progress total): pg_class.reltuples; for a table never
   * analyzed, a guess from its size as the planner makes one (row-estimate.ts); for a filtered
   * table, the planner's estimate of the rows that pass the filter.
   */
  estRows: number;
}

export interface CopyUnit {
  /** Stable id: `${table.key}#${startBlock}`. */
  id: string;
  table: CopyTable;
  /** First block (inclusive). */
  start: number;
  /** End block (exclusive); null = open-ended (the last or only unit). */
  end: number | null;
  /** Units in this table's plan. */
  of: number;
  estBytes: number;
  estRows: number;
  /**
   * Further small one-unit tables copied with this one in the same target transaction (see
   * batchSmallUnits); each keeps its own unit id and checkpoint row. Set on the first unit only.
   */
  batch?: CopyUnit[];
}

/**
 * Limits of a batch of small tables: a table this small or less joins one, up to so many tables and
 * bytes. 256 kB copy in a few milliseconds, about what a unit of its own costs in round trips.
 */
export const SMALL_BATCH = { tableBytes: 256 * 1024, tables: 50, bytes: 4 * 1024 * 1024 };

/**
 * Consecutive one-unit tables of at most SMALL_BATCH.tableBytes, grouped into batches of up to
 * SMALL_BATCH.tables tables and SMALL_BATCH.bytes: one session pair and one target transaction
 * (with every table's checkpoint row) instead of one per table. Order is kept.
 */
export function batchSmallUnits(units: CopyUnit[], limits = SMALL_BATCH): CopyUnit[] {
  const out: CopyUnit[] = [];
  let lead: CopyUnit | undefined;
  let bytes = 0;
  for (const u of units) {
    const small = u.of === 1 && u.estBytes <= limits.tableBytes;
    if (!small) {
      out.push(u);
      lead = undefined;
      continue;
    }
    const size = 1 + (lead?.batch?.length ?? 0);
    if (lead && size < limits.tables && bytes + u.estBytes <= limits.bytes) {
      (lead.batch ??= []).push(u);
      bytes += u.estBytes;
      continue;
    }
    lead = { ...u };
    bytes = u.estBytes;
    out.push(lead);
  }
  return out;
}

/** The units a queued unit stands for: itself and the tables batched with it. */
export const unitsOf = (u: CopyUnit): CopyUnit[] => [u, ...(u.batch ?? [])];

/** The planner's row estimate of a query (EXPLAIN, nothing run). */
async function plannedRows(c: pg.Client, sql: string): Promise<number> {
  const r = await c.query<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }>(`EXPLAIN (FORMAT JSON) ${sql}`);
  return Math.round(r.rows[0]['QUERY PLAN'][0].Plan['Plan Rows']);
}

/**
 * Sizes of the source tables, read inside the caller's (snapshot) transaction. A filtered table's
 * estimate is the planner's for its filter (one EXPLAIN each, the filter through checkRowFilter).
 */
export async function tableSizes(c: pg.Client, tables: CopyTable[]): Promise<Map<string, TableSize>> {
  const out = new Map<string, TableSize>();
  if (tables.length === 0) return out;
  const r = await c.query<SizeRow & { i: number }>(
    `SELECT t.i, ${SIZE_COLUMNS('c')}
       FROM unnest($1::text[]) WITH ORDINALITY AS t(name, i)
       JOIN pg_class c ON c.oid = t.name::regclass`,
    [tables.map((t) => qualify(t.source.schema, t.source.name))],
  );
  for (const row of r.rows) {
    const t = tables[Number(row.i) - 1];
    const bs = Number(row.block_size);
    const bytes = Number(row.heap_bytes);
    let estRows = estimatedRows(row);
    if (t.where) {
      const sql = `SELECT FROM ONLY ${qualify(t.source.schema, t.source.name)} WHERE (${checkRowFilter(t.where, t.key)})`;
      estRows = await withStartPath(c, () => plannedRows(c, sql));
    }
    out.set(t.key, { key: t.key, bytes, blocks: Math.ceil(bytes / bs), blockSize: bs, estRows });
  }
  return out;
}

export interface SplitOptions {
  splitThresholdMB: number;
  unitMB: number;
  /** Source server_version_num. */
  sourceVersion: number;
  jobs: number;
  /**
   * Total heap bytes of all tables being planned. A table is split only when it is larger than
   * its fair share (total / jobs) as well as splitThresholdMB: splitting is there to balance the
   * workers, and costs something (no COPY FREEZE, a ctid qual per row). Measured on mixed
   * scale 5, 2 jobs, 2 cores: big tables split 26–29 s, not split 22 s (pgcopydb 26–34 s).
   */
  totalBytes?: number;
}

/**
 * Block boundaries of a table's units: [0] for one unit, [0, b1, b2, …] for ranges
 * [0,b1), [b1,b2), …, [bn, ∞).
 */
export function planBoundaries(size: TableSize, o: SplitOptions): number[] {
  const mb = 1024 * 1024;
  if (size.bytes <= o.splitThresholdMB * mb) return [0];
  if (o.totalBytes !== undefined && size.bytes <= o.totalBytes / Math.max(1, o.jobs)) return [0];
  // Before PostgreSQL 14 there is no TID Range Scan: every unit's ctid predicate is checked
  // on a full sequential scan. Measured on a 167 MB table (PG12, 2 cores): 1 unit 1.90 s,
  // 2 units on 2 jobs 2.25–2.42 s. So tables on older sources are not split.
  if (o.sourceVersion < 140000) return [0];
  const unitBlocks = Math.max(1, Math.floor((o.unitMB * mb) / size.blockSize));
  const out: number[] = [];
  for (let b = 0; b < size.blocks; b += unitBlocks) out.push(b);
  if (out.length === 0) out.push(0);
  return out;
}

export function unitsFromBoundaries(table: CopyTable, boundaries: number[], size: TableSize | undefined): CopyUnit[] {
  const b = [...boundaries].sort((x, y) => x - y);
  const units: CopyUnit[] = [];
  const totalBlocks = Math.max(size?.blocks ?? 0, 1);
  for (let i = 0; i < b.length; i++) {
    const start = b[i];
    const end = i + 1 < b.length ? b[i + 1] : null;
    const blocks = (end ?? Math.max(totalBlocks, start + 1)) - start;
    const frac = b.length === 1 ? 1 : Math.max(0, blocks / totalBlocks);
    units.push({
      id: unitKey(table.key, start),
      table,
      start,
      end,
      of: b.length,
      estBytes: Math.round((size?.bytes ?? 0) * frac),
      estRows: Math.round((size?.estRows ?? 0) * frac),
    });
  }
  return units;
}

/** `(a, b, c)` — or nothing for a table without columns, which COPY takes without a list. */
function columnList(names: string[]): string {
  return names.length ? ` (${names.map(quoteIdent).join(', ')})` : '';
}

/** SELECT list / column list / predicate of one unit (`SELECT FROM …` for a zero-column table). */
export function unitSelect(u: CopyUnit): string {
  const t = u.table;
  const cols = t.columns.map((c) => quoteIdent(c.source)).join(', ');
  const preds: string[] = [];
  if (u.of > 1) {
    // qualified: with a row filter the statement runs on the user's search_path (pg/search-path.ts)
    if (u.start > 0) preds.push(`ctid OPERATOR(pg_catalog.>=) '(${u.start},0)'::pg_catalog.tid`);
    if (u.end !== null) preds.push(`ctid OPERATOR(pg_catalog.<) '(${u.end},0)'::pg_catalog.tid`);
  }
  if (t.where) preds.push(`(${checkRowFilter(t.where, t.key)})`);
  const where = preds.length ? ' WHERE ' + preds.join(' AND ') : '';
  return `SELECT ${cols}${cols ? ' ' : ''}FROM ONLY ${qualify(t.source.schema, t.source.name)}${where}`;
}

/** Source COPY … TO STDOUT of one unit. */
export function sourceCopySql(u: CopyUnit, format: 'text' | 'binary'): string {
  const t = u.table;
  const opts = format === 'binary' ? ' WITH (FORMAT binary)' : '';
  if (u.of === 1 && !t.where) {
    // Plain COPY table TO is a little faster than COPY (SELECT …) and reads only this table.
    const cols = columnList(t.columns.map((c) => c.source));
    return `COPY ${qualify(t.source.schema, t.source.name)}${cols} TO STDOUT${opts}`;
  }
  return `COPY (${unitSelect(u)}) TO STDOUT${opts}`;
}

/** Target COPY … FROM STDIN of one unit. */
export function targetCopySql(u: CopyUnit, format: 'text' | 'binary', freeze: boolean): string {
  const t = u.table;
  const opts: string[] = [];
  if (format === 'binary') opts.push('FORMAT binary');
  if (freeze) opts.push('FREEZE');
  const cols = columnList(t.columns.map((c) => c.target));
  const withOpts = opts.length ? ` WITH (${opts.join(', ')})` : '';
  return `COPY ${qualify(t.target.schema, t.target.name)}${cols} FROM STDIN${withOpts}`;
}

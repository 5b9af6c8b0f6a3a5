/**
 * Row verification of one table: counts, or order-independent content hashes per primary-key
 * range. Key ranges are computed on the source and evaluated identically on both sides (ctid
 * ranges are physical and not comparable between clusters). Tables without a usable key are
 * compared as one chunk.
 */
import type pg from 'pg';
import type { CopyTable } from '../data/plan/types.js';
import { qualify, quoteIdent } from '../../core/ident.js';
import type { ChunkMismatch, RowExample, TableVerify, VerifyMode } from './types.js';
import { serverVersionNum } from '../../pg/connect.js';
import { checkRowFilter } from '../../core/filter.js';
import { startPath, withStartPath } from '../../pg/search-path.js';
import { countResult, missingResult, newResult } from './results.js';

/** Session settings that make text output of values identical across servers and versions. */
export const NORMALISE_SQL = `SET extra_float_digits = 3; SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET bytea_output = 'hex'`;

export interface TableJob {
  table: CopyTable;
  mode: VerifyMode;
  examples: number;
  chunkRows: number;
  /** Rows fetched per side to find examples are limited to this; larger chunks report counts only. */
  exampleFetchLimit: number;
}

interface Side {
  client: pg.Client;
  rel: string;
  cols: string[];
  where?: string;
  /**
   * The search_path its statements run with: a filtered source's starting path (the filter's), and the
   * same on the target side of that table, so that reg* values print relative to one path on both.
   */
  path?: string;
}

/** A column as compared text. Floats go through their binary send form: exact and identical on every version. */
function colText(name: string, type: string): string {
  const q = quoteIdent(name);
  if (type === 'double precision') return `pg_catalog.float8send(${q})::pg_catalog.text`;
  if (type === 'real') return `pg_catalog.float4send(${q})::pg_catalog.text`;
  return `${q}::pg_catalog.text`;
}

function rowText(cols: { name: string; type: string }[]): string {
  if (cols.length === 0) return `''`;
  return `ROW(${cols.map((c) => colText(c.name, c.type)).join(', ')})::pg_catalog.text`;
}

function toNum(v: string | number | null | undefined): number {
  return v === null || v === undefined ? 0 : Number(v);
}

/** Find a primary key or unique NOT NULL key whose columns are all copied. Returns source column names. */
export async function findKey(source: pg.Client, t: CopyTable): Promise<string[]> {
  const r = await source.query<{ cols: string[] }>(
    `SELECT array_agg(a.attname::text ORDER BY k.ord) AS cols
       FROM pg_index i
       CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indrelid = $1::regclass AND i.indisvalid
        AND (i.indisprimary OR (i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL))
      GROUP BY i.indexrelid, i.indisprimary
     HAVING bool_and(a.attnotnull) AND bool_and(k.attnum > 0)
      ORDER BY i.indisprimary DESC, count(*), i.indexrelid`,
    [qualify(t.source.schema, t.source.name)],
  );
  const copied = new Set(t.columns.map((c) => c.source));
  for (const row of r.rows) if (row.cols.every((c) => copied.has(c))) return row.cols;
  return [];
}

function rangeCond(keys: string[], lower: string[] | null, upper: string[] | null, params: unknown[]): string {
  const tuple = keys.length === 1 ? quoteIdent(keys[0]) : `(${keys.map(quoteIdent).join(', ')})`;
  const ph = (vals: string[]) => {
    const p = vals.map((v) => {
      params.push(v);
      return `$${params.length}`;
    });
    return p.length === 1 ? p[0] : `(${p.join(', ')})`;
  };
  const parts: string[] = [];
  if (lower) parts.push(`${tuple} OPERATOR(pg_catalog.>=) ${ph(lower)}`);
  if (upper) parts.push(`${tuple} OPERATOR(pg_catalog.<) ${ph(upper)}`);
  return parts.join(' AND ');
}

function describeRange(keys: string[], lower: string[] | null, upper: string[] | null): string {
  if (!lower && !upper) return keys.length ? 'all keys' : 'whole table';
  const tuple = keys.length === 1 ? quoteIdent(keys[0]) : `(${keys.map(quoteIdent).join(', ')})`;
  const lit = (v: string[]) =>
    v.length === 1 ? JSON.stringify(v[0]) : `(${v.map((x) => JSON.stringify(x)).join(', ')})`;
  const parts: string[] = [];
  if (lower) parts.push(`${tuple} >= ${lit(lower)}`);
  if (upper) parts.push(`${tuple} < ${lit(upper)}`);
  return parts.join(' AND ');
}

function whereOf(side: Side, range: string): string {
  const filter = side.where ? `(${checkRowFilter(side.where, side.rel)})` : '';
  const conds = [filter, range ? `(${range})` : ''].filter(Boolean);
  return conds.length ? ` WHERE ${conds.join(' AND ')}` : '';
}

/**
 * Statements that embed a side's row filter run with the session's starting search_path (the filter's,
 * see pg/search-path.ts): everything pgferry adds to them is schema-qualified.
 */
function onSide<T>(side: Side, fn: () => Promise<T>): Promise<T> {
  const path = side.path ?? (side.where ? startPath(side.client) : undefined);
  return path === undefined ? fn() : withStartPath(side.client, fn, path);
}

/** `count(*)` of a relation, after its row filter (validated again here) when it has one. */
export function countSql(rel: string, where?: string): string {
  return `SELECT pg_catalog.count(*) AS n FROM ${rel}${where ? ` WHERE (${checkRowFilter(where, rel)})` : ''}`;
}

async function countRows(side: Side): Promise<number> {
  // Extended protocol: one statement per message, whatever the filter holds.
  const text = countSql(side.rel, side.where);
  const r = await onSide(side, () =>
    side.client.query<{ n: string }>({ text, queryMode: 'extended' } as pg.QueryConfig),
  );
  return toNum(r.rows[0].n);
}

interface ChunkHash {
  n: number;
  h: string;
}

async function hashChunk(
  side: Side,
  keys: string[],
  types: Map<string, string>,
  lower: string[] | null,
  upper: string[] | null,
  srcKeys: string[],
  rowHash: PreparedTable['rowHash'],
): Promise<ChunkHash> {
  const params: unknown[] = [];
  const range = rangeCond(keys, lower, upper, params);
  const rt = rowText(side.cols.map((c, i) => ({ name: c, type: types.get(srcKeys[i]) ?? '' })));
  // An order-independent sum of 64-bit row hashes. hashtextextended hashes the bytes of the row
  // text (the same on every major version since 11, as hash partitioning relies on it).
  const h64 =
    rowHash === 'hashtextextended'
      ? `pg_catalog.hashtextextended(${rt}, 0)`
      : `('x' OPERATOR(pg_catalog.||) pg_catalog.substr(pg_catalog.md5(${rt}), 1, 16))::pg_catalog.bit(64)::pg_catalog.int8`;
  const r = await onSide(side, () =>
    side.client.query<{ n: string; h: string }>({
      text: `SELECT pg_catalog.count(*) AS n, coalesce(pg_catalog.sum(${h64}::pg_catalog.numeric), 0)::pg_catalog.text AS h
       FROM ${side.rel}${whereOf(side, range)}`,
      values: params,
      queryMode: 'extended',
    } as pg.QueryConfig),
  );
  return { n: toNum(r.rows[0].n), h: r.rows[0].h };
}

async function rowHashes(
  side: Side,
  keys: string[],
  types: Map<string, string>,
  lower: string[] | null,
  upper: string[] | null,
  srcKeys: string[],
  limit: number,
): Promise<{ h: string; r: string; k: string[] | null }[] | null> {
  const params: unknown[] = [];
  const range = rangeCond(keys, lower, upper, params);
  const rt = rowText(side.cols.map((c, i) => ({ name: c, type: types.get(srcKeys[i]) ?? '' })));
  const keySel = keys.length
    ? `ARRAY[${keys.map((k) => `${quoteIdent(k)}::pg_catalog.text`).join(', ')}]`
    : 'NULL::pg_catalog.text[]';
  const order = keys.length ? ` ORDER BY ${keys.map(quoteIdent).join(', ')}` : '';
  params.push(limit + 1);
  // Hash the compared form; show the plain text form (floats as digits, not their binary form).
  const shown = side.cols.length
    ? `ROW(${side.cols.map((c) => `${quoteIdent(c)}::pg_catalog.text`).join(', ')})::pg_catalog.text`
    : `''`;
  const r = await onSide(side, () =>
    side.client.query<{ h: string; r: string; k: string[] | null }>(
      `SELECT pg_catalog.md5(t.c) AS h, t.r, t.k FROM (SELECT ${rt} AS c, ${shown} AS r, ${keySel} AS k FROM ${side.rel}${whereOf(side, range)}${order} LIMIT $${params.length}) t`,
      params,
    ),
  );
  if (r.rows.length > limit) return null;
  return r.rows;
}

function diffExamples(
  src: { h: string; r: string; k: string[] | null }[],
  tgt: { h: string; r: string; k: string[] | null }[],
  max: number,
): RowExample[] {
  const srcOnly = onlyIn(src, tgt, 'source-only');
  const tgtOnly = onlyIn(tgt, src, 'target-only');
  return [...srcOnly.slice(0, max), ...tgtOnly.slice(0, max)];
}

/** A hash-mode table ready to compare range by range (on any pair of sessions). */
export interface PreparedTable {
  out: TableVerify;
  srcRel: string;
  tgtRel: string;
  srcCols: string[];
  tgtCols: string[];
  where?: string;
  srcKeys: string[];
  tgtKeys: string[];
  types: Map<string, string>;
  ranges: [string[] | null, string[] | null][];
  /** Row hash: hashtextextended (11+, ~3× cheaper than md5) when both servers have it. */
  rowHash: 'hashtextextended' | 'md5';
}

export interface ChunkResult {
  sourceRows: number;
  targetRows: number;
  mismatch?: ChunkMismatch;
}

/**
 * First step of a table: counts it (count mode) or finds its key and key ranges (hash mode).
 * Returns a finished result, or a PreparedTable whose ranges are then checked with checkChunk.
 */
export async function prepareTable(
  source: pg.Client,
  target: pg.Client,
  job: TableJob,
  /** Whether the target table exists, when already looked up for many tables at once. */
  exists?: boolean,
): Promise<TableVerify | PreparedTable> {
  const t = job.table;
  const out = newResult(t);
  if (!(exists ?? (await existsOnTarget(target, out.target)))) {
    const n = await countRows({
      client: source,
      rel: qualify(t.source.schema, t.source.name),
      cols: [],
      where: t.where,
    });
    return missingResult(out, n);
  }
  const src: Side = {
    client: source,
    rel: qualify(t.source.schema, t.source.name),
    cols: t.columns.map((c) => c.source),
    where: t.where,
  };
  const tgt: Side = { client: target, rel: out.target, cols: t.columns.map((c) => c.target) };

  if (job.mode === 'count') {
    const [a, b] = await Promise.all([countRows(src), countRows(tgt)]);
    return countResult(out, a, b);
  }

  const srcKeys = await findKey(source, t);
  const tgtKeys = srcKeys.map((k) => t.columns.find((c) => c.source === k)!.target);
  out.keyColumns = srcKeys;

  // Chunk lower bounds from the source: every chunkRows-th key in key order.
  let bounds: string[][] = [];
  if (srcKeys.length) {
    const order = srcKeys.map(quoteIdent).join(', ');
    const r = await onSide(src, () =>
      source.query<{ b: string[] }>(
        `SELECT b FROM (SELECT ARRAY[${srcKeys.map((k) => `${quoteIdent(k)}::pg_catalog.text`).join(', ')}] AS b, pg_catalog.row_number() OVER (ORDER BY ${order}) AS rn
                      FROM ${src.rel}${whereOf(src, '')}) s
        WHERE (rn OPERATOR(pg_catalog.>) 1) AND ((rn OPERATOR(pg_catalog.-) 1) OPERATOR(pg_catalog.%) $1) OPERATOR(pg_catalog.=) 0 ORDER BY rn`,
        [job.chunkRows],
      ),
    );
    bounds = r.rows.map((x) => x.b);
  }
  const ranges: [string[] | null, string[] | null][] = [];
  for (let i = 0; i <= bounds.length; i++)
    ranges.push([i === 0 ? null : bounds[i - 1], i === bounds.length ? null : bounds[i]]);
  out.chunks = ranges.length;
  return {
    out,
    srcRel: src.rel,
    tgtRel: tgt.rel,
    srcCols: src.cols,
    tgtCols: tgt.cols,
    where: t.where,
    srcKeys,
    tgtKeys,
    types: new Map(t.columns.map((c) => [c.source, c.type])),
    ranges,
    rowHash: (await versionNum(source)) >= 110000 && (await versionNum(target)) >= 110000 ? 'hashtextextended' : 'md5',
  };
}

/** Compare one key range of a prepared table, both sides at once; on a difference, diff the row hashes for examples. */
export async function checkChunk(
  source: pg.Client,
  target: pg.Client,
  p: PreparedTable,
  index: number,
  job: Pick<TableJob, 'examples' | 'exampleFetchLimit'>,
): Promise<ChunkResult> {
  const [lo, hi] = p.ranges[index];
  const path = p.where ? startPath(source) : undefined;
  const src: Side = { client: source, rel: p.srcRel, cols: p.srcCols, where: p.where, path };
  const tgt: Side = { client: target, rel: p.tgtRel, cols: p.tgtCols, path };
  const [a, b] = await Promise.all([
    hashChunk(src, p.srcKeys, p.types, lo, hi, p.srcCols, p.rowHash),
    hashChunk(tgt, p.tgtKeys, p.types, lo, hi, p.srcCols, p.rowHash),
  ]);
  if (a.n === b.n && a.h === b.h) return { sourceRows: a.n, targetRows: b.n };
  const m: ChunkMismatch = {
    range: describeRange(p.srcKeys, lo, hi),
    lower: lo,
    upper: hi,
    sourceCount: a.n,
    targetCount: b.n,
    examples: [],
  };
  if (job.examples > 0) {
    const [ra, rb] = await Promise.all([
      rowHashes(src, p.srcKeys, p.types, lo, hi, p.srcCols, job.exampleFetchLimit),
      rowHashes(tgt, p.tgtKeys, p.types, lo, hi, p.srcCols, job.exampleFetchLimit),
    ]);
    if (ra && rb) m.examples = diffExamples(ra, rb, job.examples);
  }
  return { sourceRows: a.n, targetRows: b.n, mismatch: m };
}

async function existsOnTarget(target: pg.Client, rel: string): Promise<boolean> {
  const r = await target.query<{ r: string | null }>(`SELECT to_regclass($1)::text AS r`, [rel]);
  return r.rows[0].r !== null;
}

export function isPrepared(x: TableVerify | PreparedTable): x is PreparedTable {
  return (x as PreparedTable).ranges !== undefined;
}

/** Compare one table on one pair of sessions (NORMALISE_SQL applied), ranges one after the other. */
export async function verifyTable(source: pg.Client, target: pg.Client, job: TableJob): Promise<TableVerify> {
  const p = await prepareTable(source, target, job);
  if (!isPrepared(p)) return p;
  let sRows = 0;
  let tRows = 0;
  for (let i = 0; i < p.ranges.length; i++) {
    const r = await checkChunk(source, target, p, i, job);
    sRows += r.sourceRows;
    tRows += r.targetRows;
    if (r.mismatch) p.out.mismatches.push(r.mismatch);
  }
  p.out.sourceRows = sRows;
  p.out.targetRows = tRows;
  p.out.ok = p.out.mismatches.length === 0;
  return p.out;
}

const versions = new WeakMap<pg.Client, number>();
async function versionNum(c: pg.Client): Promise<number> {
  let v = versions.get(c);
  if (v === undefined) {
    v = await serverVersionNum(c);
    versions.set(c, v);
  }
  return v;
}

/** Rows of `a` not matched by an equal-hash row of `b` (a multiset difference). */
function onlyIn(
  a: { h: string; r: string; k: string[] | null }[],
  b: { h: string; r: string; k: string[] | null }[],
  side: RowExample['side'],
): RowExample[] {
  const count = new Map<string, number>();
  for (const x of b) count.set(x.h, (count.get(x.h) ?? 0) + 1);
  const out: RowExample[] = [];
  for (const x of a) {
    const c = count.get(x.h) ?? 0;
    if (c > 0) count.set(x.h, c - 1);
    else out.push({ side, ...(x.k ? { key: x.k } : {}), row: x.r });
  }
  return out;
}

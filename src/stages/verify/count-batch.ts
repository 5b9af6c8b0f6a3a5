/**
 * Count verification of many small tables in few queries: the target tables' existence and the
 * source tables' sizes looked up for all tables at once, then one query per side for a batch of
 * small tables (`SELECT (SELECT count(*) FROM a), (SELECT count(*) FROM b WHERE (filter)), …`).
 * A batch that fails is verified again table by table, so one bad table fails alone.
 */
import type pg from 'pg';
import type { CopyTable } from '../data/plan/types.js';
import { qualify } from '../../core/ident.js';
import type { TableVerify } from './types.js';
import { countSql } from './data.js';
import { withStartPath } from '../../pg/search-path.js';
import { countResult, missingResult, newResult } from './results.js';

/** Tables at most this size (bytes of the source table's main fork) are counted in batches. */
export const SMALL_TABLE_BYTES = 1024 * 1024;
/** Small tables per batch query. */
export const BATCH_TABLES = 50;

export interface TableFacts {
  /** Keys of the tables whose target table does not exist. */
  missing: Set<string>;
  /** Batches of small tables (count mode). */
  batches: CopyTable[][];
  /** Tables verified one by one. */
  single: CopyTable[];
}

/** One query per side for all tables: which exist on the target, which are small on the source. */
export async function tableFacts(
  source: pg.Client,
  target: pg.Client,
  tables: CopyTable[],
  batching: boolean,
): Promise<TableFacts> {
  const missing = await missingOnTarget(target, tables);
  if (!batching) return { missing, batches: [], single: tables };
  return { missing, ...batchesOf(tables, await smallTables(source, tables)) };
}

/** Keys of the tables whose target table does not exist, in one query. */
export async function missingOnTarget(target: pg.Client, tables: CopyTable[]): Promise<Set<string>> {
  const names = tables.map((t) => qualify(t.target.schema, t.target.name));
  const tr = await target.query<{ i: number }>(
    `SELECT i::int FROM unnest($1::text[]) WITH ORDINALITY AS x(name, i) WHERE to_regclass(x.name) IS NULL`,
    [names],
  );
  return new Set(tr.rows.map((r) => tables[r.i - 1].key));
}

/** Keys of the tables at most SMALL_TABLE_BYTES on the source, in one query. */
export async function smallTables(source: pg.Client, tables: CopyTable[]): Promise<Set<string>> {
  const sr = await source.query<{ i: number }>(
    `SELECT i::int FROM unnest($1::text[]) WITH ORDINALITY AS x(name, i)
      WHERE pg_relation_size(to_regclass(x.name)) <= $2`,
    [tables.map((t) => qualify(t.source.schema, t.source.name)), SMALL_TABLE_BYTES],
  );
  return new Set(sr.rows.map((r) => tables[r.i - 1].key));
}

/** Small tables in batches of BATCH_TABLES, the others one by one. */
export function batchesOf(tables: CopyTable[], small: Set<string>): Pick<TableFacts, 'batches' | 'single'> {
  const batches: CopyTable[][] = [];
  const single: CopyTable[] = [];
  let cur: CopyTable[] = [];
  for (const t of tables) {
    if (!small.has(t.key)) {
      single.push(t);
      continue;
    }
    cur.push(t);
    if (cur.length === BATCH_TABLES) {
      batches.push(cur);
      cur = [];
    }
  }
  if (cur.length) batches.push(cur);
  return { batches, single };
}

/** Source row counts (after each row filter) of a batch of tables, in one statement. */
export function countSource(source: pg.Client, tables: CopyTable[]): Promise<number[]> {
  return countMany(
    source,
    tables.map((t) => ({ rel: qualify(t.source.schema, t.source.name), where: t.where })),
  );
}

/** Row counts of the relations, in one statement. */
export async function countMany(client: pg.Client, rels: { rel: string; where?: string }[]): Promise<number[]> {
  if (rels.length === 0) return [];
  const cols = rels.map((r, i) => `(${countSql(r.rel, r.where)}) AS c${i}`);
  // Extended protocol: one statement per message, whatever a filter holds.
  const q = { text: `SELECT ${cols.join(', ')}`, queryMode: 'extended' } as pg.QueryConfig;
  // row filters resolve names on the session's starting search_path (pg/search-path.ts)
  const run = () => client.query<Record<string, string>>(q);
  const r = await (rels.some((x) => x.where) ? withStartPath(client, run) : run());
  return rels.map((_, i) => Number(r.rows[0][`c${i}`]));
}

/**
 * Count-mode results of a batch: the source side after each row filter, the target side whole.
 * Source counts already read (in verify's snapshot, see ./early.ts) are not read again.
 */
export async function countBatch(
  source: pg.Client,
  target: pg.Client,
  tables: CopyTable[],
  missing: Set<string>,
  sourceCounts?: Map<string, number>,
): Promise<TableVerify[]> {
  const present = tables.filter((t) => !missing.has(t.key));
  const known = sourceCounts && tables.every((t) => sourceCounts.has(t.key));
  const [a, b] = await Promise.all([
    known ? tables.map((t) => sourceCounts.get(t.key)!) : countSource(source, tables),
    countMany(
      target,
      present.map((t) => ({ rel: qualify(t.target.schema, t.target.name) })),
    ),
  ]);
  const targetRows = new Map(present.map((t, i) => [t.key, b[i]]));
  return tables.map((t, i) => {
    const n = targetRows.get(t.key);
    return n === undefined ? missingResult(newResult(t), a[i]) : countResult(newResult(t), a[i], n);
  });
}

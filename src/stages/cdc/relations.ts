/**
 * The source tables the stream may name, and how a Relation message maps onto the target:
 * target table and column names (renames, schema mapping), the target column types values are
 * cast to, the replica identity columns — and a stop, naming the table and the change, when the
 * source table's columns no longer match what the task knows (DDL is not replicated).
 */
import type pg from 'pg';
import { PgferryError } from '../../core/errors.js';
import { qualify, quoteIdent } from '../../core/ident.js';
import type { CopyTable } from '../data/plan/types.js';
import type { RelationMessage } from './pgoutput/messages.js';

/** A selected table as the task knows it when the stream starts. */
export interface KnownTable {
  table: CopyTable;
  /** Source columns the stream sends (not dropped, not generated): name → type oid. */
  sourceTypes: Map<string, number>;
  /** Target column types as format_type prints them: target name → type. */
  targetTypes: Map<string, string>;
}

/** One message column on the target: its quoted name and the type its text value is cast to. */
export interface TargetColumn {
  name: string;
  type: string;
}

export interface RelationPlan {
  key: string;
  /** The target table, quoted. */
  target: string;
  /** Per column of the message: where it goes, or null when the selection leaves it out. */
  columns: (TargetColumn | null)[];
  /** Positions of the replica identity's columns in the message. */
  identity: number[];
  /** REPLICA IDENTITY FULL: rows are found by all their columns. */
  full: boolean;
  /** REPLICA IDENTITY NOTHING (or no key): UPDATE and DELETE cannot be applied. */
  noIdentity: boolean;
}

interface RawColumnRow {
  rel: string;
  attname: string;
  atttypid: number;
  type: string;
}

async function columnsOf(c: pg.Client, names: string[]): Promise<Map<string, RawColumnRow[]>> {
  const r = await c.query<RawColumnRow>(
    `SELECT a.attrelid::regclass::text AS rel, a.attname, a.atttypid::int AS atttypid,
            pg_catalog.format_type(a.atttypid, a.atttypmod) AS type
       FROM pg_catalog.pg_attribute a
      WHERE a.attrelid = ANY ($1::regclass[]) AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
      ORDER BY a.attrelid, a.attnum`,
    [names],
  );
  const by = new Map<string, RawColumnRow[]>();
  for (const row of r.rows) by.set(row.rel, [...(by.get(row.rel) ?? []), row]);
  return by;
}

/** Read the selected tables' columns on both sides (source: as the stream sends them). */
export async function knownTables(src: pg.Client, tgt: pg.Client, tables: CopyTable[]): Promise<KnownTable[]> {
  const sourceNames = tables.map((t) => qualify(t.source.schema, t.source.name));
  const targetNames = tables.map((t) => qualify(t.target.schema, t.target.name));
  const [s, t] = await Promise.all([columnsOf(src, sourceNames), columnsOf(tgt, targetNames)]);
  // regclass::text prints names as the search_path needs them: resolve through the same cast.
  const sKeys = await regclassText(src, sourceNames);
  const tKeys = await regclassText(tgt, targetNames);
  return tables.map((table, i) => ({
    table,
    sourceTypes: new Map((s.get(sKeys[i]) ?? []).map((r) => [r.attname, r.atttypid])),
    targetTypes: new Map((t.get(tKeys[i]) ?? []).map((r) => [r.attname, r.type])),
  }));
}

async function regclassText(c: pg.Client, names: string[]): Promise<string[]> {
  const r = await c.query<{ n: string }>(
    'SELECT x::regclass::text AS n FROM unnest($1::text[]) WITH ORDINALITY u(x, i) ORDER BY i',
    [names],
  );
  return r.rows.map((row) => row.n);
}

function changed(table: string, what: string[]): PgferryError {
  return new PgferryError('data', `source table ${table} changed while its changes were streamed: ${what.join('; ')}`, {
    hint:
      'DDL is not replicated. Make the same change on the target table (or leave the column out with `columns:` in ' +
      'the task), then run the same command again: the apply continues from the last transaction it committed',
  });
}

/** The differences between a Relation message and the columns the task knows. */
function differences(msg: RelationMessage, known: KnownTable, addedLater: ReadonlySet<string>): string[] {
  const out: string[] = [];
  const sent = new Set(msg.columns.map((c) => c.name));
  for (const c of msg.columns) {
    const was = known.sourceTypes.get(c.name);
    if (was === undefined) out.push(`column ${quoteIdent(c.name)} added`);
    else if (was !== c.typeOid) out.push(`column ${quoteIdent(c.name)} changed type (oid ${was} → ${c.typeOid})`);
  }
  for (const name of known.sourceTypes.keys())
    if (!sent.has(name) && !addedLater.has(name)) out.push(`column ${quoteIdent(name)} dropped or renamed`);
  return out;
}

const knownOf = (msg: RelationMessage, known: KnownTable[]) =>
  known.find((t) => t.table.source.schema === msg.schema && t.table.source.name === msg.name);

/** Columns the task read on the source that a Relation message lacks: dropped since, or added after it was written. */
export function missingFromMessage(msg: RelationMessage, known: KnownTable[]): string[] {
  const k = knownOf(msg, known);
  if (!k) return [];
  const sent = new Set(msg.columns.map((c) => c.name));
  return [...k.sourceTypes.keys()].filter((name) => !sent.has(name));
}

/** The source table's columns now (to tell a column added after a message from a dropped one). */
export async function currentColumns(src: pg.Client, schema: string, name: string): Promise<Set<string>> {
  const r = await src.query<{ attname: string }>(
    `SELECT a.attname FROM pg_catalog.pg_attribute a
       JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped`,
    [schema, name],
  );
  return new Set(r.rows.map((row) => row.attname));
}

/**
 * Map a Relation message onto the target; undefined for a table the task does not copy.
 * `addedLater`: columns the message lacks because they were added on the source after it was
 * written (the stream is older than the catalog the task read): their target default applies,
 * as the source's ADD COLUMN gave its rows.
 */
export function planRelation(
  msg: RelationMessage,
  known: KnownTable[],
  addedLater: ReadonlySet<string> = new Set(),
): RelationPlan | undefined {
  const k = knownOf(msg, known);
  if (!k) return undefined;
  const diff = differences(msg, k, addedLater);
  if (diff.length) throw changed(k.table.key, diff);
  const columns = msg.columns.map((c) => {
    const col = k.table.columns.find((x) => x.source === c.name);
    if (!col) return null;
    const type = k.targetTypes.get(col.target);
    if (type === undefined) throw changed(k.table.key, [`target column ${quoteIdent(col.target)} is missing`]);
    return { name: quoteIdent(col.target), type };
  });
  const identity = msg.columns.flatMap((c, i) => (c.key ? [i] : []));
  const full = msg.replicaIdentity === 'f';
  const noIdentity = msg.replicaIdentity === 'n' || (!full && identity.length === 0);
  const unselectedKey = identity.filter((i) => columns[i] === null).map((i) => msg.columns[i].name);
  if (!full && unselectedKey.length) {
    throw new PgferryError(
      'usage',
      `${k.table.key}: replica identity column(s) ${unselectedKey.join(', ')} are not selected`,
      {
        hint: "add them to the table's `columns:` list: updates and deletes find target rows by them",
      },
    );
  }
  return {
    key: k.table.key,
    target: qualify(k.table.target.schema, k.table.target.name),
    columns,
    identity,
    full,
    noIdentity,
  };
}

/** Keys of the tables whose target table has a unique index besides its primary key. */
export async function uniqueBeyondKey(tgt: pg.Client, tables: CopyTable[]): Promise<Set<string>> {
  const names = tables.map((t) => qualify(t.target.schema, t.target.name));
  const r = await tgt.query<{ i: number }>(
    `SELECT x.i::int AS i FROM unnest($1::text[]) WITH ORDINALITY x(n, i)
      WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_index ix
                     WHERE ix.indrelid = to_regclass(x.n) AND ix.indisunique AND NOT ix.indisprimary)`,
    [names],
  );
  return new Set(r.rows.map((row) => tables[row.i - 1].key));
}

/**
 * Per task table key: the target table's primary key columns (quoted), when it can arbitrate an
 * upsert (immediate, not deferrable). A batch's whole row images then go as one
 * INSERT … ON CONFLICT DO UPDATE instead of a DELETE and an INSERT (apply-compact.ts).
 */
export async function upsertKeys(tgt: pg.Client, tables: CopyTable[]): Promise<Map<string, string[]>> {
  const names = tables.map((t) => qualify(t.target.schema, t.target.name));
  const r = await tgt.query<{ i: number; cols: string[] }>(
    `SELECT x.i::int AS i, array_agg(a.attname::text ORDER BY a.attname) AS cols
       FROM unnest($1::text[]) WITH ORDINALITY x(n, i)
       JOIN pg_catalog.pg_index ix ON ix.indrelid = to_regclass(x.n) AND ix.indisprimary AND ix.indimmediate
       JOIN pg_catalog.pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = ANY (ix.indkey)
      GROUP BY x.i`,
    [names],
  );
  return new Map(r.rows.map((row) => [tables[row.i - 1].key, row.cols.map((c) => quoteIdent(c)).sort()]));
}

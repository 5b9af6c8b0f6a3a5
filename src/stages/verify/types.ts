/** The result of `verify`: per table, per sequence, per object kind. Serialised as-is into report.json. */
export type VerifyMode = 'count' | 'hash';

export interface RowExample {
  /** source-only: on the source (after the row filter) and not on the target; target-only: the reverse. */
  side: 'source-only' | 'target-only';
  /** Key values as text (hash mode on a keyed table), in key column order. */
  key?: string[];
  /** The compared row, as a record text of the compared columns in mapped order. */
  row: string;
}

export interface ChunkMismatch {
  /** Human-readable range, e.g. `id >= 100 AND id < 200`, or `whole table`. */
  range: string;
  /** Inclusive lower bound of the key range (key values as text), null = unbounded. */
  lower: string[] | null;
  /** Exclusive upper bound, null = unbounded. */
  upper: string[] | null;
  sourceCount: number;
  targetCount: number;
  examples: RowExample[];
}

export interface TableVerify {
  /** Source table key (schema.table, SQL-quoted). */
  key: string;
  /** Target table, schema.table SQL-quoted. */
  target: string;
  sourceRows: number | null;
  targetRows: number | null;
  ok: boolean;
  /** hash mode: key columns used to chunk (source names), empty = whole table compared as one chunk. */
  keyColumns?: string[];
  chunks?: number;
  mismatches: ChunkMismatch[];
  /** Set when the table could not be compared (e.g. missing on the target). */
  error?: string;
}

export interface SequenceState {
  lastValue: string;
  isCalled: boolean;
}

export interface SequenceVerify {
  key: string;
  target: string;
  source: SequenceState | null;
  targetState: SequenceState | null;
  ok: boolean;
}

export interface ObjectVerify {
  /** tables, views, matviews, indexes, constraints:primary key, …, sequences, functions, triggers, types */
  kind: string;
  sourceCount: number;
  targetCount: number;
  ok: boolean;
  /** Names (target naming) found on the source but not on the target; at most 50. */
  missing: string[];
  /** Names on the target without a source counterpart; at most 50. */
  extra: string[];
}

export interface VerifyReport {
  ok: boolean;
  mode: VerifyMode;
  tables: TableVerify[];
  sequences: SequenceVerify[];
  objects: ObjectVerify[];
  durationMs: number;
}

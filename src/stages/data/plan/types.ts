/**
 * The contract between the schema stage and the data engine: one table (or partition leaf)
 * to copy, with its source and target names and the columns to move.
 */
import type { QualifiedName } from '../../../core/qualified-name.js';

export type { QualifiedName };

export interface CopyColumn {
  source: string;
  target: string;
  /** Type name as format_type() prints it, e.g. "numeric(12,2)" — used to decide binary vs text. */
  type: string;
}

export interface CopyTable {
  /** Stable key, "schema.table" of the source with SQL quoting. Also the key of its early statements. */
  key: string;
  source: QualifiedName;
  target: QualifiedName;
  /** Columns to copy in order (generated columns excluded). */
  columns: CopyColumn[];
  /** Row filter (SQL boolean expression on the source table). */
  where?: string;
  /** A primary key or unique NOT NULL key exists (informational: resume is exact either way). */
  hasPrimaryKey: boolean;
}

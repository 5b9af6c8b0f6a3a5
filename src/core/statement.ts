/**
 * One generated DDL statement and where it belongs in the DTS order:
 *  - pre:   everything but indexes, PK/UNIQUE/EXCLUDE, FKs and triggers (before data)
 *  - early: a table's indexes and PK/UNIQUE/EXCLUDE constraints (right after its data lands)
 *  - late:  foreign keys, triggers, materialized view refresh, (after all data)
 */
export type Section = 'pre' | 'early' | 'late';

export interface Statement {
  /** Stable identity of the object, used for resume bookkeeping, e.g. "index public.orders_pkey". */
  key: string;
  /** Object kind, e.g. "table", "index", "constraint", "sequence", "function". */
  kind: string;
  /** Display name of the object on the target, e.g. public.orders. */
  name: string;
  section: Section;
  sql: string;
  /** For early statements: the CopyTable key whose data must land first. */
  table?: string;
  /** false for statements that cannot run inside a transaction block (none today). */
  transactional?: boolean;
}

/**
 * Additive: SQL that removes the object when the task says ifExists: 'drop' (run before `sql`,
 * in the same transaction). Absent for objects that are never dropped (schemas, extensions).
 */
export interface Statement {
  drop?: string;
}

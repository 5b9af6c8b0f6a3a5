/**
 * One generated DDL statement and where it belongs in the DTS order:
 *  - pre:   everything but indexes, PK/UNIQUE/EXCLUDE, FKs and triggers (before data)
 *  - early: a table's indexes and PK/UNIQUE/EXCLUDE constraints (right after its data lands)
 *  - late:  foreign keys, triggers, materialized view refresh, (after all data)
 */
export type Section = 'pre' | 'early' | 'late';

/** `sql` ending with a semicolon, to be joined with others into one multi-statement script. */
export function terminated(sql: string): string {
  return sql.trimEnd().endsWith(';') ? sql : `${sql};`;
}

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

/**
 * The strongest lock a statement takes on its table. CREATE INDEX takes SHARE, which does not conflict
 * with itself: a table's index builds run side by side. COMMENT ON and ALTER TABLE … CLUSTER ON take
 * SHARE UPDATE EXCLUSIVE, ADD CONSTRAINT … USING INDEX and ALTER INDEX … ATTACH PARTITION (which locks
 * the parent index) ACCESS EXCLUSIVE: such a statement runs alone.
 * https://www.postgresql.org/docs/current/explicit-locking.html
 */
export type LockLevel = 'share' | 'share-update-exclusive' | 'access-exclusive';

/**
 * Additive, for early statements (the data stage schedules them from these fields only, never from
 * their SQL): an index built and then attached (PK/UNIQUE `… USING INDEX`, `ALTER INDEX … ATTACH
 * PARTITION`, or a comment) is two statements, the build (key `indexPartKey(key)`, `buildOf` = the
 * attachment's key) and the attachment (the object's key).
 */
export interface Statement {
  lock?: LockLevel;
  /** For an index build step: the key of the step that attaches it; done when that one is. */
  buildOf?: string;
  /**
   * For an index build step: the index has expression columns. ANALYZE gathers statistics on an
   * index's expressions only once the index exists, so the table's ANALYZE follows this build.
   */
  expressions?: boolean;
  /**
   * For an index build step: its access method when not btree (gin, gist, …). Such builds take the
   * longest (a GIN build is not parallel): a table's builds start with them, so that they do not
   * end the table's work alone after its btree builds.
   */
  method?: string;
}

/**
 * Additive, for late statements that need no more than some copied tables complete (a foreign key
 * between two copied tables): those tables' keys (CopyTable.key). The data stage may run such a
 * statement as soon as their rows are in and their early statements done, overlapping the rest of
 * the copy (src/stages/data/copy/index-builder.ts); otherwise it runs in post-data.
 */
export interface Statement {
  after?: string[];
  /**
   * For a foreign key validated on the source between two different copied tables (after[0] the
   * referencing table, after[1] the referenced one): the constraint added NOT VALID, with its
   * comment (`notValid`), and its validation (`validate`), run in that order in two transactions.
   * Adding it takes SHARE ROW EXCLUSIVE on both tables and is quick; the validation, the long part,
   * takes SHARE UPDATE EXCLUSIVE on the referencing table and only ROW SHARE on the referenced one,
   * so it runs beside that table's ANALYZE. The first step is recorded under notValidKey(key), the
   * validated constraint under `key`; a run stopped between the two validates it on the next run.
   * https://www.postgresql.org/docs/current/sql-altertable.html
   */
  validation?: { notValid: string; validate: string };
}

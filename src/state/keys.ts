/**
 * Checkpoint keys: the names under which the target's checkpoint tables record work done.
 * Every key format lives here, so a stored key written by one part of pgferry is read back
 * by another with the same spelling (a changed format would make a resume redo or skip work).
 *
 * - unit (`unit.unit_id`): `<table key>#<start block>` for a table's copy unit, `lo:<oid>` for a large object;
 * - object (`object.object_key`): a schema statement's key, `<key>#index` for the index-build half of a
 *   split statement, `<key>#not-valid` for a foreign key added NOT VALID and not yet validated,
 *   `analyze <table key>`, `truncate <quoted target table>`.
 */

/** `unit.table_name` of large objects. */
export const LARGE_OBJECTS_KEY = 'pg_largeobject';

/** A copy unit of a table: the table key and the first block of its ctid range. */
export const unitKey = (tableKey: string, startBlock: number): string => `${tableKey}#${startBlock}`;

/** One large object. */
export const largeObjectKey = (oid: string | number): string => `lo:${oid}`;

/** A batch of large objects, as named in events (not stored). */
export const largeObjectRangeKey = (first: string | number, last: string | number): string => `lo:${first}..${last}`;

/** Key suffix of the index-build half of a split early statement. */
export const INDEX_PART = '#index';

/** The index-build half of the statement with key `statementKey`. */
export const indexPartKey = (statementKey: string): string => statementKey + INDEX_PART;

export const isIndexPartKey = (key: string): boolean => key.endsWith(INDEX_PART);

/** The first step of a foreign key added NOT VALID and validated after (Statement.validation). */
export const notValidKey = (statementKey: string): string => `${statementKey}#not-valid`;

/** ANALYZE of a table after its rows and indexes. */
export const analyzeKey = (tableKey: string): string => `analyze ${tableKey}`;

/** The once-per-task TRUNCATE of a target table (`--if-exists truncate`); `target` is the quoted name. */
export const truncateKey = (target: string): string => `truncate ${target}`;

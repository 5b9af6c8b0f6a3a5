/**
 * pgoutput's logical replication messages (protocol version 1), as pgferry reads them.
 * https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html
 */
import type { Lsn } from '../lsn.js';

/** First byte of each pgoutput message. */
export const MessageCode = {
  Begin: 0x42, // B
  Commit: 0x43, // C
  Origin: 0x4f, // O
  Relation: 0x52, // R
  Type: 0x59, // Y
  Insert: 0x49, // I
  Update: 0x55, // U
  Delete: 0x44, // D
  Truncate: 0x54, // T
  Message: 0x4d, // M
} as const;

/** First byte of each column of a TupleData. */
export const TupleCode = {
  Null: 0x6e, // n
  UnchangedToast: 0x75, // u: a TOASTed value the change left alone; not sent
  Text: 0x74, // t
  Binary: 0x62, // b
} as const;

/** Which old tuple an UPDATE or DELETE carries. */
export const OldTupleCode = {
  Key: 0x4b, // K: the replica identity's columns (a key changed, or DELETE)
  Old: 0x4f, // O: the whole old row (REPLICA IDENTITY FULL)
  New: 0x4e, // N: the new row follows
} as const;

/** A column value: text form, SQL NULL, or a TOASTed value that did not change. */
export type ColumnValue = string | null | { unchanged: true };
export const UNCHANGED: ColumnValue = Object.freeze({ unchanged: true as const });

export interface RelationColumn {
  name: string;
  typeOid: number;
  typmod: number;
  /** Part of the replica identity. */
  key: boolean;
}

export interface RelationMessage {
  tag: 'relation';
  oid: number;
  schema: string;
  name: string;
  /** d (default: primary key), n (nothing), f (full), i (index). */
  replicaIdentity: string;
  columns: RelationColumn[];
}

export type PgoutputMessage =
  | { tag: 'begin'; finalLsn: Lsn; commitTime: Date; xid: number }
  | { tag: 'commit'; flags: number; commitLsn: Lsn; endLsn: Lsn; commitTime: Date }
  | { tag: 'origin'; commitLsn: Lsn; name: string }
  | RelationMessage
  | { tag: 'type'; oid: number; schema: string; name: string }
  | { tag: 'insert'; relation: number; row: ColumnValue[] }
  | { tag: 'update'; relation: number; key?: ColumnValue[]; old?: ColumnValue[]; row: ColumnValue[] }
  | { tag: 'delete'; relation: number; key?: ColumnValue[]; old?: ColumnValue[] }
  | { tag: 'truncate'; cascade: boolean; restartIdentity: boolean; relations: number[] }
  | { tag: 'message'; transactional: boolean; lsn: Lsn; prefix: string; content: Buffer };

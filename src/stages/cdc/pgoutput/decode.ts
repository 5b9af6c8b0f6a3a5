/**
 * Decodes one pgoutput message (the payload of an XLogData frame) into a PgoutputMessage.
 * Protocol version 1, text values: https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html
 * Messages pgferry does not act on (Type, Origin, logical decoding Message) are decoded in full,
 * so that a malformed one is still noticed, and then skipped by the apply.
 */
import { PgferryError } from '../../../core/errors.js';
import {
  type ColumnValue,
  MessageCode,
  OldTupleCode,
  type PgoutputMessage,
  type RelationColumn,
  TupleCode,
  UNCHANGED,
} from './messages.js';
import { MessageReader } from './reader.js';

type Decoder = (r: MessageReader) => PgoutputMessage;

function tuple(r: MessageReader): ColumnValue[] {
  const n = r.i16('tuple column count');
  const values: ColumnValue[] = [];
  for (let i = 0; i < n; i++) {
    const kind = r.u8('tuple column kind');
    if (kind === TupleCode.Null) values.push(null);
    else if (kind === TupleCode.UnchangedToast) values.push(UNCHANGED);
    else if (kind === TupleCode.Text) values.push(r.text(r.i32('value length'), 'value'));
    else throw malformed(`tuple column ${i + 1} of kind 0x${kind.toString(16)}`);
  }
  return values;
}

function relationColumns(r: MessageReader): RelationColumn[] {
  const n = r.i16('relation column count');
  const columns: RelationColumn[] = [];
  for (let i = 0; i < n; i++) {
    const flags = r.u8('column flags');
    const name = r.cstring('column name');
    columns.push({ key: (flags & 1) === 1, name, typeOid: r.u32('column type'), typmod: r.i32('column typmod') });
  }
  return columns;
}

/** UPDATE and DELETE: an optional K (key) or O (old row) tuple; for UPDATE then N (new row). */
function checkOld(code: number): void {
  if (code !== OldTupleCode.Key && code !== OldTupleCode.Old)
    throw malformed(`old tuple marker 0x${code.toString(16)}`);
}

const decoders: Record<number, Decoder> = {
  [MessageCode.Begin]: (r) => ({
    tag: 'begin',
    finalLsn: r.u64('final LSN'),
    commitTime: r.time('commit time'),
    xid: r.u32('xid'),
  }),
  [MessageCode.Commit]: (r) => ({
    tag: 'commit',
    flags: r.u8('commit flags'),
    commitLsn: r.u64('commit LSN'),
    endLsn: r.u64('end LSN'),
    commitTime: r.time('commit time'),
  }),
  [MessageCode.Origin]: (r) => ({ tag: 'origin', commitLsn: r.u64('origin LSN'), name: r.cstring('origin name') }),
  [MessageCode.Relation]: (r) => ({
    tag: 'relation',
    oid: r.u32('relation oid'),
    schema: r.cstring('relation schema'),
    name: r.cstring('relation name'),
    replicaIdentity: String.fromCharCode(r.u8('replica identity')),
    columns: relationColumns(r),
  }),
  [MessageCode.Type]: (r) => ({
    tag: 'type',
    oid: r.u32('type oid'),
    schema: r.cstring('type schema'),
    name: r.cstring('type name'),
  }),
  [MessageCode.Insert]: (r) => {
    const relation = r.u32('relation oid');
    const code = r.u8('new tuple marker');
    if (code !== OldTupleCode.New) throw malformed(`insert tuple marker 0x${code.toString(16)}`);
    return { tag: 'insert', relation, row: tuple(r) };
  },
  // no object spread per change: each shape is built as it is
  [MessageCode.Update]: (r) => {
    const relation = r.u32('relation oid');
    const code = r.u8('update tuple marker');
    if (code === OldTupleCode.New) return { tag: 'update', relation, row: tuple(r) };
    checkOld(code);
    const before = tuple(r);
    const next = r.u8('new tuple marker');
    if (next !== OldTupleCode.New) throw malformed(`update new tuple marker 0x${next.toString(16)}`);
    const row = tuple(r);
    return code === OldTupleCode.Key
      ? { tag: 'update', relation, key: before, row }
      : { tag: 'update', relation, old: before, row };
  },
  [MessageCode.Delete]: (r) => {
    const relation = r.u32('relation oid');
    const code = r.u8('delete tuple marker');
    checkOld(code);
    const before = tuple(r);
    return code === OldTupleCode.Key
      ? { tag: 'delete', relation, key: before }
      : { tag: 'delete', relation, old: before };
  },
  [MessageCode.Truncate]: (r) => {
    const n = r.i32('truncated relation count');
    const options = r.u8('truncate options');
    const relations: number[] = [];
    for (let i = 0; i < n; i++) relations.push(r.u32('truncated relation oid'));
    return { tag: 'truncate', cascade: (options & 1) === 1, restartIdentity: (options & 2) === 2, relations };
  },
  [MessageCode.Message]: (r) => {
    const transactional = (r.u8('message flags') & 1) === 1;
    const lsn = r.u64('message LSN');
    const prefix = r.cstring('message prefix');
    return { tag: 'message', transactional, lsn, prefix, content: r.bytes(r.i32('message length'), 'message') };
  },
};

/** One reader for every message: decoding is synchronous, a message at a time. */
const reader = new MessageReader(Buffer.alloc(0));

function malformed(what: string): PgferryError {
  return new PgferryError('data', `unexpected replication message content: ${what}`, {
    hint: 'pgferry reads pgoutput protocol version 1 with text values; rerun to resume',
  });
}

/**
 * Decode one whole pgoutput message (`buf` from `at` to `end`: the XLogData frame's payload read
 * in place); throws on a truncated, overlong or unknown message.
 */
export function decodePgoutput(buf: Buffer, at = 0, end = buf.length): PgoutputMessage {
  const r = reader.reset(buf, at, end);
  const code = r.u8('message code');
  const decode = decoders[code];
  if (!decode) throw malformed(`message code 0x${code.toString(16)} (${JSON.stringify(String.fromCharCode(code))})`);
  const m = decode(r);
  if (!r.done) throw malformed(`${end - at - r.left} of ${end - at} bytes of a ${m.tag} message read`);
  return m;
}

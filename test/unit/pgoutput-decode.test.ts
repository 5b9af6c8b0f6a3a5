// The pgoutput decoder on hand-built messages (protocol version 1, no server): every message kind,
// each value kind ('n', 'u', 't'), and every message cut at each byte boundary — a cut message is an
// error naming the field it stopped in, never a value made of stray bytes; the two halves joined decode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePgoutput } from '../../src/stages/cdc/pgoutput/decode.js';
import { decodeFrame, statusUpdate } from '../../src/stages/cdc/pgoutput/frames.js';
import { UNCHANGED } from '../../src/stages/cdc/pgoutput/messages.js';
import { formatLsn, parseLsn } from '../../src/stages/cdc/lsn.js';
import { PgferryError } from '../../src/core/errors.js';

/** A tiny big-endian writer for building protocol messages. */
class W {
  parts: Buffer[] = [];
  u8(v: number) {
    this.parts.push(Buffer.from([v]));
    return this;
  }
  ch(c: string) {
    return this.u8(c.charCodeAt(0));
  }
  i16(v: number) {
    const b = Buffer.alloc(2);
    b.writeInt16BE(v);
    this.parts.push(b);
    return this;
  }
  i32(v: number) {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    this.parts.push(b);
    return this;
  }
  u64(v: bigint) {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(v);
    this.parts.push(b);
    return this;
  }
  str(s: string) {
    this.parts.push(Buffer.from(s, 'utf8'), Buffer.from([0]));
    return this;
  }
  text(s: string) {
    const b = Buffer.from(s, 'utf8');
    return this.ch('t').i32(b.length).raw(b);
  }
  raw(b: Buffer) {
    this.parts.push(b);
    return this;
  }
  get buf() {
    return Buffer.concat(this.parts);
  }
}

const T2024 = 757_382_400_000_000n; // 2024-01-01T00:00:00Z in µs since 2000-01-01

const cases: { name: string; buf: Buffer; want: unknown }[] = [
  {
    name: 'begin',
    buf: new W().ch('B').u64(0x1_0000_0010n).u64(T2024).i32(777).buf,
    want: { tag: 'begin', finalLsn: 0x1_0000_0010n, commitTime: new Date('2024-01-01T00:00:00Z'), xid: 777 },
  },
  {
    name: 'commit',
    buf: new W().ch('C').u8(0).u64(10n).u64(20n).u64(T2024).buf,
    want: { tag: 'commit', flags: 0, commitLsn: 10n, endLsn: 20n, commitTime: new Date('2024-01-01T00:00:00Z') },
  },
  {
    name: 'relation',
    buf: new W()
      .ch('R')
      .i32(16384)
      .str('public')
      .str('Grüße')
      .ch('f')
      .i16(2)
      .u8(1)
      .str('id')
      .i32(23)
      .i32(-1)
      .u8(0)
      .str('v')
      .i32(25)
      .i32(-1).buf,
    want: {
      tag: 'relation',
      oid: 16384,
      schema: 'public',
      name: 'Grüße',
      replicaIdentity: 'f',
      columns: [
        { key: true, name: 'id', typeOid: 23, typmod: -1 },
        { key: false, name: 'v', typeOid: 25, typmod: -1 },
      ],
    },
  },
  {
    name: 'insert with NULL and text',
    buf: new W().ch('I').i32(16384).ch('N').i16(3).text('42').ch('n').text('').buf,
    want: { tag: 'insert', relation: 16384, row: ['42', null, ''] },
  },
  {
    name: 'update with key change and an unchanged TOAST value',
    buf: new W().ch('U').i32(5).ch('K').i16(2).text('1').ch('n').ch('N').i16(2).text('2').ch('u').buf,
    want: { tag: 'update', relation: 5, key: ['1', null], row: ['2', UNCHANGED] },
  },
  {
    name: 'update with the old row (FULL)',
    buf: new W().ch('U').i32(5).ch('O').i16(1).text('a').ch('N').i16(1).text('b').buf,
    want: { tag: 'update', relation: 5, old: ['a'], row: ['b'] },
  },
  {
    name: 'update without old tuple',
    buf: new W().ch('U').i32(5).ch('N').i16(1).text('b').buf,
    want: { tag: 'update', relation: 5, row: ['b'] },
  },
  {
    name: 'delete by key',
    buf: new W().ch('D').i32(5).ch('K').i16(1).text('9').buf,
    want: { tag: 'delete', relation: 5, key: ['9'] },
  },
  {
    name: 'truncate cascade restart identity',
    buf: new W().ch('T').i32(2).u8(3).i32(5).i32(6).buf,
    want: { tag: 'truncate', cascade: true, restartIdentity: true, relations: [5, 6] },
  },
  {
    name: 'type',
    buf: new W().ch('Y').i32(99999).str('public').str('mood').buf,
    want: { tag: 'type', oid: 99999, schema: 'public', name: 'mood' },
  },
  {
    name: 'origin',
    buf: new W().ch('O').u64(77n).str('node_a').buf,
    want: { tag: 'origin', commitLsn: 77n, name: 'node_a' },
  },
  {
    name: 'logical decoding message',
    buf: new W().ch('M').u8(1).u64(88n).str('app').i32(3).raw(Buffer.from('xyz')).buf,
    want: { tag: 'message', transactional: true, lsn: 88n, prefix: 'app', content: Buffer.from('xyz') },
  },
];

for (const c of cases) {
  test(`pgoutput ${c.name}: decoded whole, refused when cut at any byte, decoded again when the halves are joined`, () => {
    assert.deepEqual(decodePgoutput(c.buf), c.want);
    for (let k = 0; k < c.buf.length; k++) {
      const head = Buffer.from(c.buf.subarray(0, k));
      const tail = Buffer.from(c.buf.subarray(k));
      assert.throws(
        () => decodePgoutput(head),
        (e: unknown) => e instanceof PgferryError && /truncated|unexpected/.test(e.message),
        `cut at ${k} of ${c.buf.length}`,
      );
      assert.deepEqual(decodePgoutput(Buffer.concat([head, tail])), c.want);
    }
  });
}

test('pgoutput: trailing bytes, unknown codes and unknown value kinds are errors', () => {
  const insert = new W().ch('I').i32(1).ch('N').i16(1).text('x').buf;
  assert.throws(() => decodePgoutput(Buffer.concat([insert, Buffer.from([0])])), /1[0-9]? of 1[0-9] bytes/);
  assert.throws(() => decodePgoutput(Buffer.from('Z')), /message code 0x5a/);
  assert.throws(() => decodePgoutput(new W().ch('I').i32(1).ch('N').i16(1).ch('b').buf), /kind 0x62/);
});

test('replication frames: XLogData and keepalive decoded at every cut; the status update layout', () => {
  const payload = new W().ch('B').u64(1n).u64(0n).i32(1).buf;
  const xlog = new W().ch('w').u64(5n).u64(9n).u64(0n).raw(payload).buf;
  assert.deepEqual(decodeFrame(xlog), { tag: 'xlog', start: 5n, end: 9n, data: payload });
  const keep = new W().ch('k').u64(0x2_0000_0001n).u64(0n).u8(1).buf;
  assert.deepEqual(decodeFrame(keep), { tag: 'keepalive', end: 0x2_0000_0001n, replyNow: true });
  for (let k = 0; k < keep.length; k++) assert.throws(() => decodeFrame(keep.subarray(0, k)), PgferryError);
  const s = statusUpdate(30n, 20n, true);
  assert.equal(s.length, 34);
  assert.equal(String.fromCharCode(s[0]), 'r');
  assert.equal(s.readBigUInt64BE(1), 30n);
  assert.equal(s.readBigUInt64BE(9), 20n);
  assert.equal(s.readBigUInt64BE(17), 20n);
  assert.equal(s[33], 1);
});

test('LSN text form round-trips', () => {
  for (const t of ['0/0', '0/16B3748', '1/0', 'FFFFFFFF/FFFFFFFF']) assert.equal(formatLsn(parseLsn(t)), t);
  assert.equal(parseLsn('1/10'), 0x1_0000_0010n);
  assert.throws(() => parseLsn('1-10'), /not a WAL position/);
});

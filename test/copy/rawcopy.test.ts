/**
 * The COPY relay's framing walker, fed a protocol byte stream cut at every awkward place:
 * only CopyData messages are forwarded (byte-exact), interspersed messages are dropped, rows
 * are counted, and everything after CopyDone is handed back to pg. (The end-to-end relay
 * against real servers is exercised by every other test in test/copy.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { RawCopyOut } from '../../src/stages/data/copy/rawcopy.js';

function msg(code: string, payload: Buffer): Buffer {
  const h = Buffer.alloc(5);
  h[0] = code.charCodeAt(0);
  h.writeUInt32BE(payload.length + 4, 1);
  return Buffer.concat([h, payload]);
}

async function relay(input: Buffer, cut: number): Promise<{ out: Buffer; rest: Buffer; messages: number }> {
  const sock = new PassThrough();
  const handedBack: Buffer[] = [];
  sock.on('data', (b: Buffer) => handedBack.push(b)); // pg's own handler
  const q = new RawCopyOut('COPY x TO STDOUT');
  q.submit({ stream: sock as never, query: () => {} });
  const got: Buffer[] = [];
  const done = new Promise<void>((res, rej) => {
    q.on('data', (b: Buffer) => got.push(Buffer.from(b)));
    q.on('end', () => res());
    q.on('error', rej);
  });
  for (let i = 0; i < input.length; i += cut) sock.write(input.subarray(i, i + cut));
  await done;
  await new Promise((r) => setTimeout(r, 5));
  return { out: Buffer.concat(got), rest: Buffer.concat(handedBack), messages: q.messages };
}

test('relay forwards CopyData messages byte-exact whatever the chunking', async () => {
  const rows = Array.from({ length: 50 }, (_, i) => msg('d', Buffer.from('x'.repeat((i * 37) % 300) + '\n')));
  const data = Buffer.concat(rows);
  const before = Buffer.concat([msg('H', Buffer.from([0, 0, 0])), msg('N', Buffer.from('notice\0'))]);
  const middle = msg('S', Buffer.from('client_encoding\0UTF8\0'));
  const after = Buffer.concat([msg('C', Buffer.from('COPY 50\0')), msg('Z', Buffer.from('I'))]);
  const k = rows[0].length + rows[1].length + rows[2].length; // a message boundary
  const input = Buffer.concat([
    before,
    data.subarray(0, k),
    middle,
    data.subarray(k),
    msg('c', Buffer.alloc(0)),
    after,
  ]);
  for (const cut of [1, 2, 3, 4, 5, 6, 7, 13, 64, 1000, input.length]) {
    const r = await relay(input, cut);
    assert.ok(r.out.equals(data), `cut ${cut}: forwarded bytes differ`);
    assert.equal(r.messages, 50, `cut ${cut}`);
    assert.ok(r.rest.equals(after), `cut ${cut}: bytes handed back to pg differ`);
  }
});

test('an ErrorResponse hands the connection back to pg from its first byte', async () => {
  const err = msg('E', Buffer.from('SERROR\0C57P01\0Mterminating\0\0'));
  const input = Buffer.concat([msg('H', Buffer.from([0, 0, 0])), msg('d', Buffer.from('a\n')), err]);
  for (const cut of [1, 5, 9, input.length]) {
    const sock = new PassThrough();
    const handedBack: Buffer[] = [];
    sock.on('data', (b: Buffer) => handedBack.push(b));
    const q = new RawCopyOut('COPY x TO STDOUT');
    q.submit({ stream: sock as never, query: () => {} });
    const got: Buffer[] = [];
    q.on('data', (b: Buffer) => got.push(Buffer.from(b)));
    for (let i = 0; i < input.length; i += cut) sock.write(input.subarray(i, i + cut));
    await new Promise((r) => setTimeout(r, 20));
    assert.ok(Buffer.concat(handedBack).equals(err), `cut ${cut}`);
    assert.ok(Buffer.concat(got).equals(msg('d', Buffer.from('a\n'))), `cut ${cut}`);
  }
});

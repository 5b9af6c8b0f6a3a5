/**
 * The frames of the streaming replication protocol inside COPY BOTH (each is one CopyData):
 * XLogData and keepalives from the server, standby status updates from pgferry.
 * https://www.postgresql.org/docs/current/protocol-replication.html
 */
import type { Lsn } from '../lsn.js';
import { MessageReader } from './reader.js';
import { PgferryError } from '../../../core/errors.js';

export const FrameCode = {
  XLogData: 0x77, // w
  Keepalive: 0x6b, // k: primary keepalive
  StandbyStatus: 0x72, // r: standby status update
} as const;

export type ServerFrame =
  | { tag: 'xlog'; start: Lsn; end: Lsn; data: Buffer }
  | { tag: 'keepalive'; end: Lsn; replyNow: boolean };

export function decodeFrame(buf: Buffer): ServerFrame {
  const r = new MessageReader(buf);
  const code = r.u8('frame code');
  if (code === FrameCode.XLogData) {
    const start = r.u64('WAL start');
    const end = r.u64('WAL end');
    r.skip(8, 'send time');
    return { tag: 'xlog', start, end, data: r.rest() };
  }
  if (code === FrameCode.Keepalive) {
    const end = r.u64('WAL end');
    r.skip(8, 'send time');
    const replyNow = r.u8('reply flag') === 1;
    if (!r.done) throw new PgferryError('data', 'replication keepalive longer than its 18 bytes');
    return { tag: 'keepalive', end, replyNow };
  }
  throw new PgferryError('data', `unexpected replication frame 0x${code.toString(16)}`, {
    hint: 'the source sent something other than XLogData or a keepalive; rerun to resume',
  });
}

/** Where an XLogData frame's pgoutput message starts: after its code, two LSNs and the send time. */
export const XLOG_HEADER = 25;

/** Microseconds since 2000-01-01, for the status update's clock. */
const nowPg = (): bigint => BigInt(Date.now()) * 1000n - 946_684_800_000_000n;

/**
 * A standby status update: `flushed` is the position up to which the target has committed
 * everything; the source may then release WAL before it (and restart the slot there).
 */
export function statusUpdate(received: Lsn, flushed: Lsn, replyNow = false): Buffer {
  const b = Buffer.alloc(34);
  b.writeUInt8(FrameCode.StandbyStatus, 0);
  b.writeBigUInt64BE(received, 1);
  b.writeBigUInt64BE(flushed, 9);
  b.writeBigUInt64BE(flushed, 17);
  b.writeBigInt64BE(nowPg(), 25);
  b.writeUInt8(replyNow ? 1 : 0, 33);
  return b;
}

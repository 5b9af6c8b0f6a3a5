/**
 * Zero-copy COPY relay. The frontend/backend protocol frames a COPY's data the same way in
 * both directions (CopyData 'd' messages: type byte, int32 length, payload), and a server
 * sends one CopyData message per row. So the source's CopyData messages are forwarded to the
 * target byte-for-byte, without unframing and reframing every row: the relay only walks the
 * 5-byte message headers (skipping payloads), drops the other messages interspersed in a
 * COPY OUT (CopyOutResponse, notices, parameter status) and counts rows as messages.
 *
 * RawCopyOut is a pg Submittable/Readable modelled on pg-copy-streams' copy-to (MIT,
 * https://github.com/brianc/node-pg-copy-streams): it takes over the connection socket while
 * the COPY runs and hands it back to pg at CopyDone or ErrorResponse. rawCopyIn is
 * pg-copy-streams' copy-from with its per-chunk framing turned off (chunks are already
 * framed). Throttling is applied here by pausing the socket reads.
 */
import { Readable } from 'node:stream';
import type pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { MessageType } from '../../../pg/protocol.js';
import { type PgConnection, SocketTakeover } from '../../../pg/socket-takeover.js';

export interface RawCopyHooks {
  /**
   * Called per forwarded chunk with the CopyData messages that started in it.
   * Returns ms to pause before reading on.
   */
  onData(messages: number, bytes: number): number;
}

export class RawCopyOut extends Readable {
  /** CopyData messages seen (rows; +2 in binary format for the header and trailer messages). */
  messages = 0;
  bytes = 0;
  rowCount = 0;
  private takeover?: SocketTakeover;
  private onReadableEvent = () => this.forward();
  private drained = false;
  private forwarding = false;
  private paused = false;
  private finished = false;
  // message parser state
  private hdr = Buffer.alloc(5);
  private hdrLen = 0; // header bytes collected of the current message
  private bodyLeft = 0; // payload bytes left in the current message
  private code = 0; // type byte of the current message

  constructor(
    readonly text: string,
    private hooks?: RawCopyHooks,
  ) {
    super({ highWaterMark: 1 << 16 });
  }

  submit(connection: PgConnection): void {
    this.takeover = new SocketTakeover(connection, this.onReadableEvent);
    connection.query(this.text);
  }

  override _read(): void {
    this.drained = true;
    this.forward();
  }

  private forward(): void {
    if (this.forwarding || !this.drained || this.paused || !this.takeover || this.finished) return;
    this.forwarding = true;
    const s = this.takeover.socket;
    let chunk: Buffer | null;
    while (this.drained && !this.paused && !this.finished && (chunk = s.read()) !== null) this.parse(chunk);
    this.forwarding = false;
  }

  private detach(rest: Buffer): void {
    this.finished = true;
    this.takeover!.release(rest);
  }

  private parse(chunk: Buffer): void {
    const n = chunk.length;
    let i = 0;
    let spanStart = -1; // start of the current run of forwarded (CopyData) bytes in this chunk
    let msgs = 0;
    const out: Buffer[] = [];
    const flushSpan = (end: number) => {
      if (spanStart >= 0 && end > spanStart) out.push(chunk.subarray(spanStart, end));
      spanStart = -1;
    };
    while (i < n) {
      if (this.hdrLen === 0) {
        // first byte of a message
        const code = chunk[i];
        this.code = code;
        if (code !== MessageType.CopyData) {
          flushSpan(i);
          if (
            code !== MessageType.CopyOutResponse &&
            code !== MessageType.NoticeResponse &&
            code !== MessageType.ParameterStatus &&
            code !== MessageType.NotificationResponse &&
            code !== MessageType.CopyDone
          ) {
            // ErrorResponse or anything unexpected: pg takes over from this byte.
            this.emitOut(out, msgs);
            this.detach(chunk.subarray(i));
            return;
          }
        }
      }
      const isData = this.code === MessageType.CopyData;
      if (isData && spanStart < 0) spanStart = i;
      if (this.hdrLen < 5) {
        if (this.hdrLen === 0 && n - i >= 5) {
          // the whole header in this chunk (nearly always): its length read in place, no Buffer.copy per row
          this.bodyLeft = chunk.readUInt32BE(i + 1) - 4;
          this.hdrLen = 5;
          i += 5;
        } else {
          // a header cut between chunks: its bytes collected one by one
          while (this.hdrLen < 5 && i < n) this.hdr[this.hdrLen++] = chunk[i++];
          if (this.hdrLen < 5) break;
          this.bodyLeft = this.hdr.readUInt32BE(1) - 4;
        }
        if (isData) msgs++;
      } else {
        const k = Math.min(this.bodyLeft, n - i);
        i += k;
        this.bodyLeft -= k;
      }
      if (this.bodyLeft === 0) {
        this.hdrLen = 0;
        if (this.code === MessageType.CopyDone) {
          this.emitOut(out, msgs);
          this.push(null);
          this.detach(chunk.subarray(i));
          return;
        }
      }
    }
    flushSpan(n);
    this.emitOut(out, msgs);
  }

  private emitOut(out: Buffer[], msgs: number): void {
    if (out.length === 0 && msgs === 0) return;
    const buf = out.length === 1 ? out[0] : Buffer.concat(out);
    this.messages += msgs;
    this.bytes += buf.length;
    const wait = this.hooks ? this.hooks.onData(msgs, buf.length) : 0;
    if (buf.length) this.drained = this.push(buf);
    if (wait > 5) {
      this.paused = true;
      setTimeout(
        () => {
          this.paused = false;
          this.forward();
        },
        Math.min(wait, 5000),
      );
    }
  }

  // ---- pg Submittable callbacks (after detach, pg parses CommandComplete/ReadyForQuery/ErrorResponse)
  handleError(err: Error): void {
    this.destroy(err);
  }
  handleCommandComplete(msg: { text?: string }): void {
    const m = /COPY (\d+)/.exec(msg?.text ?? '');
    if (m) this.rowCount = Number(m[1]);
  }
  handleReadyForQuery(): void {}
  handleEmptyQuery(): void {}
}

/** COPY … FROM STDIN whose input chunks are already CopyData-framed. */
export function rawCopyIn(text: string): ReturnType<typeof copyStreams.from> {
  const s = copyStreams.from(text, { highWaterMark: 1 << 16 });
  const flushable = s as unknown as { flushChunk(chunk: Buffer): boolean };
  flushable.flushChunk = function (this: { connection: PgConnection }, chunk: Buffer) {
    return this.connection.stream.write(chunk);
  };
  return s;
}

export function submitRawCopyOut(c: pg.Client, q: RawCopyOut): RawCopyOut {
  return c.query(q as unknown as pg.Submittable) as unknown as RawCopyOut;
}

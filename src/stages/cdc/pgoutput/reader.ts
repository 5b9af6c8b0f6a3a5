/**
 * Reads the fields of one protocol message. Every read checks the length first: a truncated or
 * malformed message is an error naming what was being read, never a value made of stray bytes.
 */
import { PgferryError } from '../../../core/errors.js';

/** Microseconds between the Unix epoch and PostgreSQL's (2000-01-01). */
const PG_EPOCH_US = 946_684_800_000_000;

export class MessageReader {
  /**
   * The message is `buf` from `at` to `end` (inside a frame, or a socket chunk holding several
   * frames: no copy of the payload).
   */
  constructor(
    private buf: Buffer,
    private at = 0,
    private end = buf.length,
  ) {}

  /** Read another message with the same reader (no reader object per message). */
  reset(buf: Buffer, at: number, end: number): this {
    this.buf = buf;
    this.at = at;
    this.end = end;
    return this;
  }

  get done(): boolean {
    return this.at >= this.end;
  }

  /** Bytes not read yet. */
  get left(): number {
    return this.end - this.at;
  }

  private need(n: number, what: string): number {
    if (this.at + n > this.end) {
      throw new PgferryError(
        'data',
        `replication message truncated: ${what} needs ${n} byte(s) at offset ${this.at} of ${this.end}`,
        { hint: 'the replication stream is corrupt or not pgoutput protocol version 1; rerun to resume' },
      );
    }
    const at = this.at;
    this.at += n;
    return at;
  }

  u8(what: string): number {
    return this.buf.readUInt8(this.need(1, what));
  }

  i16(what: string): number {
    return this.buf.readInt16BE(this.need(2, what));
  }

  i32(what: string): number {
    return this.buf.readInt32BE(this.need(4, what));
  }

  u32(what: string): number {
    return this.buf.readUInt32BE(this.need(4, what));
  }

  u64(what: string): bigint {
    return this.buf.readBigUInt64BE(this.need(8, what));
  }

  /**
   * A timestamp sent as microseconds since 2000-01-01: read as two 32-bit halves, exact as a
   * double for ±285 years around 2000 (no BigInt per message); whole milliseconds, truncated.
   */
  time(what: string): Date {
    const at = this.need(8, what);
    const us = this.buf.readInt32BE(at) * 4_294_967_296 + this.buf.readUInt32BE(at + 4);
    return new Date(Math.trunc((us + PG_EPOCH_US) / 1000));
  }

  /** A NUL-terminated string. */
  cstring(what: string): string {
    const end = this.buf.indexOf(0, this.at);
    if (end < 0 || end >= this.end) this.need(this.end - this.at + 1, what);
    const s = this.buf.toString('utf8', this.at, end);
    this.at = end + 1;
    return s;
  }

  bytes(n: number, what: string): Buffer {
    if (n < 0) this.need(Number.MAX_SAFE_INTEGER, what);
    const at = this.need(n, what);
    return this.buf.subarray(at, at + n);
  }

  /** A UTF-8 text value of `n` bytes, read in place (no intermediate Buffer per value). */
  text(n: number, what: string): string {
    if (n < 0) this.need(Number.MAX_SAFE_INTEGER, what);
    const at = this.need(n, what);
    return this.buf.toString('utf8', at, at + n);
  }

  /** Skip `n` bytes (a field nobody reads). */
  skip(n: number, what: string): void {
    this.need(n, what);
  }

  rest(): Buffer {
    const b = this.buf.subarray(this.at, this.end);
    this.at = this.end;
    return b;
  }
}

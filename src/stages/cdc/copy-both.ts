/**
 * The replication session's COPY BOTH, read straight from pg's socket: a pg Submittable that
 * takes over the connection's socket for START_REPLICATION (pg/socket-takeover.ts, as the copy relay does),
 * walks the protocol's message headers itself and hands each CopyData payload to `onData` as a
 * range of the chunk it arrived in: no Buffer, stream chunk or event per frame. Only a frame split
 * across socket chunks is assembled, into one buffer of its exact length.
 *
 * Interspersed messages (ParameterStatus, NoticeResponse, NotificationResponse) are skipped.
 * An ErrorResponse goes back to pg, which reports it through `handleError`; CopyDone, or any other
 * message (the CommandComplete of a walsender that shuts down), ends the stream (`onEnd`) and hands
 * the rest of the session back to pg. Frames from pgferry (standby status updates) are written as
 * CopyData once the server has answered with CopyBothResponse.
 * https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-COPY
 */
import type pg from 'pg';
import { MessageType } from '../../pg/protocol.js';
import { type PgConnection, SocketTakeover } from '../../pg/socket-takeover.js';

export interface CopyBothHandlers {
  /** One CopyData payload: `buf` from `start` to `end` (valid only during the call). */
  onData(buf: Buffer, start: number, end: number): void;
  /** The server ended the COPY (CopyDone, or the session ends without an error). */
  onEnd(): void;
  /** The server reported an error (ErrorResponse), or the session failed. */
  onError(e: Error): void;
}

/** What the socket delivered so far: the reader's work, for diagnostics. */
export interface CopyBothCounts {
  /** Socket reads. */
  chunks: number;
  /** CopyData frames handed over. */
  frames: number;
  /** Frames split across reads, assembled in a buffer of their own. */
  assembled: number;
}

export class CopyBoth {
  readonly counts: CopyBothCounts = { chunks: 0, frames: 0, assembled: 0 };
  private takeover?: SocketTakeover;
  private readonly onReadable = () => this.read();
  private reading = false;
  private paused = false;
  private detached = false;
  /** The server answered CopyBothResponse: frames may be written. */
  private started = false;
  // a message split across chunks: its header bytes so far, or its body being filled
  private hdr = Buffer.alloc(5);
  private hdrLen = 0;
  private code = 0;
  private body: Buffer | null = null;
  private bodyAt = 0;

  constructor(
    readonly text: string,
    private h: CopyBothHandlers,
  ) {}

  /** Start it on a client (pg runs it as its active query). */
  static start(client: pg.Client, text: string, h: CopyBothHandlers): CopyBoth {
    const c = new CopyBoth(text, h);
    client.query(c as unknown as pg.Submittable);
    return c;
  }

  submit(connection: PgConnection): void {
    this.takeover = new SocketTakeover(connection, this.onReadable);
    connection.query(this.text);
  }

  /** Stop reading the socket (the server then waits on TCP): the reader is behind. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    // not from inside the caller's own loop: reading delivers frames synchronously
    setImmediate(() => this.read());
  }

  /** Send one CopyData frame with `payload`; false when the COPY has not started or has ended. */
  write(payload: Buffer): boolean {
    if (!this.started || this.detached || !this.takeover) return false;
    const frame = Buffer.allocUnsafe(5 + payload.length);
    frame[0] = MessageType.CopyData;
    frame.writeUInt32BE(4 + payload.length, 1);
    payload.copy(frame, 5);
    this.takeover.socket.write(frame);
    return true;
  }

  private read(): void {
    if (this.reading || this.detached || !this.takeover) return;
    this.reading = true;
    try {
      const s = this.takeover.socket;
      let chunk: Buffer | null;
      while (!this.paused && !this.detached && (chunk = s.read()) !== null) this.parse(chunk);
    } catch (e) {
      this.h.onError(e instanceof Error ? e : new Error(String(e)));
    } finally {
      this.reading = false;
    }
  }

  /** Walks the messages of `chunk`; a whole CopyData inside it is handed over in place. */
  private parse(chunk: Buffer): void {
    this.counts.chunks++;
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      if (this.body) {
        const k = Math.min(this.body.length - this.bodyAt, n - i);
        chunk.copy(this.body, this.bodyAt, i, i + k);
        this.bodyAt += k;
        i += k;
        if (this.bodyAt < this.body.length) return;
        const body = this.body;
        this.body = null;
        this.counts.assembled++;
        if (!this.message(this.code, body, 0, body.length, chunk, i)) return;
        continue;
      }
      let len: number;
      if (this.hdrLen === 0 && n - i >= 5) {
        this.code = chunk[i]!;
        if (this.code === MessageType.ErrorResponse) {
          this.detach(chunk.subarray(i));
          return;
        }
        len = chunk.readUInt32BE(i + 1) - 4;
        i += 5;
      } else {
        // a header split across chunks
        if (this.hdrLen === 0 && chunk[i] === MessageType.ErrorResponse) {
          this.detach(chunk.subarray(i));
          return;
        }
        const k = Math.min(5 - this.hdrLen, n - i);
        chunk.copy(this.hdr, this.hdrLen, i, i + k);
        this.hdrLen += k;
        i += k;
        if (this.hdrLen < 5) return;
        this.hdrLen = 0;
        this.code = this.hdr[0]!;
        len = this.hdr.readUInt32BE(1) - 4;
      }
      if (len < 0) {
        this.h.onError(new Error(`replication stream: message 0x${this.code.toString(16)} of length ${len + 4}`));
        this.detach(Buffer.alloc(0));
        return;
      }
      if (n - i >= len) {
        const start = i;
        i += len;
        if (!this.message(this.code, chunk, start, i, chunk, i)) return;
      } else {
        this.body = Buffer.allocUnsafe(len);
        this.bodyAt = 0;
      }
    }
  }

  /**
   * One whole message; false when the COPY ended with it (then `chunk` from `restAt` on, the bytes
   * after it, went back to pg). No view of the chunk is made per frame.
   */
  private message(code: number, buf: Buffer, start: number, end: number, chunk: Buffer, restAt: number): boolean {
    if (code === MessageType.CopyData) {
      this.counts.frames++;
      this.h.onData(buf, start, end);
      return !this.detached;
    }
    if (code === MessageType.CopyBothResponse) {
      this.started = true;
      return true;
    }
    if (
      code === MessageType.ParameterStatus ||
      code === MessageType.NoticeResponse ||
      code === MessageType.NotificationResponse
    )
      return true;
    // CopyDone, or the session went on without it (a walsender that shut down): the COPY is over
    let rest = chunk.subarray(restAt);
    if (code !== MessageType.CopyDone) {
      const header = Buffer.alloc(5);
      header[0] = code;
      header.writeUInt32BE(end - start + 4, 1);
      rest = Buffer.concat([header, buf.subarray(start, end), rest]);
    }
    this.detach(rest);
    this.h.onEnd();
    return false;
  }

  /** Hand the socket back to pg, with the bytes it has not seen. */
  private detach(rest: Buffer): void {
    if (this.detached) return;
    this.detached = true;
    this.started = false;
    this.takeover!.release(rest);
  }

  // ---- pg Submittable callbacks (after detach, pg parses the rest of the session)
  handleError(err: Error): void {
    this.detached = true;
    this.h.onError(err);
  }
  handleCommandComplete(): void {}
  handleReadyForQuery(): void {}
  handleEmptyQuery(): void {}
  handleCopyData(): void {}
}

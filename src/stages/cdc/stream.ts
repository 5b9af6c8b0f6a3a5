/**
 * The change stream of the task's slot: START_REPLICATION over COPY BOTH on a replication
 * session, read from the socket directly (copy-both.ts), each XLogData frame decoded in place into
 * a pgoutput message and queued for the apply, keepalives answered, and the flushed position
 * reported only when the caller says the target committed.
 * https://www.postgresql.org/docs/current/protocol-replication.html (START_REPLICATION)
 */
import type pg from 'pg';
import { quoteIdent, quoteLiteral } from '../../core/ident.js';
import type { ConnSpec } from '../../pg/connstring.js';
import { CopyBoth, type CopyBothCounts } from './copy-both.js';
import { formatLsn, type Lsn } from './lsn.js';
import { decodePgoutput } from './pgoutput/decode.js';
import { decodeFrame, FrameCode, statusUpdate, XLOG_HEADER } from './pgoutput/frames.js';
import type { PgoutputMessage } from './pgoutput/messages.js';
import { openReplicationSession } from './slot.js';

/** A keepalive: how far the source has sent. */
export interface Keepalive {
  tag: 'keepalive';
  end: Lsn;
}

/** What the apply reads: a decoded message (queued as it is: no wrapper per message), or a keepalive. */
export type StreamItem = PgoutputMessage | Keepalive;

/**
 * The source closed the replication session without an error (a restart or shutdown of the source,
 * a walsender ended by the server): a lost connection, retried like one on a new session.
 */
export class StreamEnded extends Error {
  readonly code = 'ECONNRESET';
  constructor() {
    super('the source ended the replication stream (connection lost)');
    this.name = 'StreamEnded';
  }
}

/**
 * Read-ahead of the queue, in items (about 6 per small transaction; about a third of a full batch:
 * the apply gathers a batch while reading on, see apply.ts). Queued items outlive young-generation collections and are copied at each one
 * (profiled under a backlog: collection was about 40 % of the process's busy time), so the queue is
 * kept short; the socket's own buffer holds what comes next as bytes. Reading resumes as soon as the
 * queue is below LOW_WATER: the socket is read while the apply waits for the target (a queue left to
 * run dry first made the apply wait for the source after each batch).
 */
const HIGH_WATER = 1_000;
const LOW_WATER = 500;
/** Status updates at least this often, well inside wal_sender_timeout (60 s by default). */
const STATUS_EVERY_MS = 10_000;

export class ChangeStream {
  /** Items from `head` on are pending (Array#shift is linear in the length: profiled at 40 % of a backlog's apply). */
  private queue: StreamItem[] = [];
  private head = 0;
  private waiter?: () => void;
  private failure?: unknown;
  private ended = false;
  private received: Lsn;
  /** The last XLogData frame's WAL end, as two 32-bit halves (no BigInt per frame); taken into `received` when reported. */
  private endHi = 0;
  private endLo = 0;
  private flushed: Lsn;
  private timer: NodeJS.Timeout;

  private copy: CopyBoth;

  private constructor(
    private client: pg.Client,
    sql: string,
    from: Lsn,
  ) {
    this.received = from;
    this.flushed = from;
    client.on('error', (e) => this.fail(e));
    this.copy = CopyBoth.start(client, sql, {
      onData: (buf, start, end) => this.onFrame(buf, start, end),
      onEnd: () => this.fail(new StreamEnded()),
      onError: (e) => this.fail(e),
    });
    this.timer = setInterval(() => this.status(false), STATUS_EVERY_MS);
  }

  /** Stream the slot's changes of `publication` from `from` (the server starts at its confirmed point if later). */
  static async start(spec: ConnSpec, slot: string, publication: string, from: Lsn): Promise<ChangeStream> {
    const client = await openReplicationSession(spec, 'stream');
    const options = `proto_version '1', publication_names ${quoteLiteral(quoteIdent(publication))}`;
    const sql = `START_REPLICATION SLOT ${quoteIdent(slot)} LOGICAL ${formatLsn(from)} (${options})`;
    return new ChangeStream(client, sql, from);
  }

  /** One CopyData frame, `buf` from `start` to `end`. */
  private onFrame(buf: Buffer, start: number, end: number): void {
    if (this.failure !== undefined) return;
    try {
      // XLogData, nearly every frame: its message decoded in place
      if (end - start >= XLOG_HEADER && buf[start] === FrameCode.XLogData) {
        const hi = buf.readUInt32BE(start + 9);
        const lo = buf.readUInt32BE(start + 13);
        if (hi > this.endHi || (hi === this.endHi && lo > this.endLo)) {
          this.endHi = hi;
          this.endLo = lo;
        }
        this.push(decodePgoutput(buf, start + XLOG_HEADER, end));
        return;
      }
      const frame = decodeFrame(buf.subarray(start, end));
      if (frame.end > this.received) this.received = frame.end;
      if (frame.tag === 'xlog') this.push(decodePgoutput(frame.data));
      else {
        this.push({ tag: 'keepalive', end: frame.end });
        if (frame.replyNow) this.status(false);
      }
    } catch (e) {
      this.fail(e);
    }
  }

  private push(item: StreamItem): void {
    this.queue.push(item);
    if (this.pending >= HIGH_WATER) this.copy.pause();
    this.wake();
  }

  /** End a `next` that is waiting now (it returns undefined, as after its timeout). */
  wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  private fail(e: unknown): void {
    if (this.ended) return;
    this.failure ??= e;
    this.wake();
  }

  /** What the socket delivered so far (reads, frames, frames split across reads). */
  get counts(): CopyBothCounts {
    return this.copy.counts;
  }

  /** Items already received and not yet taken. */
  get pending(): number {
    return this.queue.length - this.head;
  }

  private take(): StreamItem | undefined {
    if (this.head >= this.queue.length) return undefined;
    const item = this.queue[this.head++];
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head >= 4096 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** The next item already received, or undefined (then `next` waits, or throws once the stream failed). */
  poll(): StreamItem | undefined {
    const item = this.take();
    if (item && this.pending <= LOW_WATER) this.copy.resume();
    return item;
  }

  /** The next item, or undefined when none came within `waitMs`. Throws once the stream failed. */
  async next(waitMs: number): Promise<StreamItem | undefined> {
    if (!this.pending && this.failure === undefined) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.waiter = undefined;
          resolve();
        }, waitMs);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    const item = this.take();
    if (item) {
      if (this.pending <= LOW_WATER) this.copy.resume();
      return item;
    }
    if (this.failure !== undefined) throw this.failure;
    return undefined;
  }

  /** The target committed everything up to `lsn`: the source may forget it. */
  ack(lsn: Lsn): void {
    if (lsn > this.flushed) this.flushed = lsn;
    this.status(false);
  }

  /** Ask the source for a keepalive (how far it has sent), e.g. to learn that nothing is pending. */
  poke(): void {
    this.status(true);
  }

  private status(replyNow: boolean): void {
    if (this.ended || this.failure !== undefined) return;
    try {
      // before the server's CopyBothResponse nothing may be sent: the next update carries the same
      const frameEnd = (BigInt(this.endHi) << 32n) | BigInt(this.endLo);
      if (frameEnd > this.received) this.received = frameEnd;
      this.copy.write(statusUpdate(this.received, this.flushed, replyNow));
    } catch (e) {
      this.fail(e);
    }
  }

  close(): void {
    this.ended = true;
    clearInterval(this.timer);
    // The walsender ends with the session; the slot stays for the next run.
    const stream = (this.client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;
    stream?.destroy();
    this.client.end().catch(() => {});
  }
}

/**
 * A pg connection's socket taken over for one query whose answer pgferry reads itself (the copy
 * relay's COPY OUT, the replication stream's COPY BOTH): pg's own reader is unhooked and the
 * socket read in paused mode through 'readable'; `release` hands it back to pg with the bytes of
 * the session pgferry did not consume, so pg parses the rest (CommandComplete, ErrorResponse, …).
 */

/** The parts of pg's socket a takeover uses. */
export interface PgSocket {
  read(): Buffer | null;
  pause(): void;
  resume(): void;
  listeners(ev: string): ((b: Buffer) => void)[];
  on(ev: string, fn: (...a: never[]) => void): void;
  removeListener(ev: string, fn: (...a: never[]) => void): void;
  write(b: Buffer): boolean;
}

/** What pg hands a Submittable's `submit`. */
export interface PgConnection {
  stream: PgSocket;
  query(text: string): void;
}

export class SocketTakeover {
  private readonly pgData?: (b: Buffer) => void;
  private released = false;

  /** Unhook pg's reader; `onReadable` is called whenever the socket has bytes to read. */
  constructor(
    readonly connection: PgConnection,
    private readonly onReadable: () => void,
  ) {
    const s = connection.stream;
    const listeners = s.listeners('data');
    this.pgData = listeners[listeners.length - 1];
    if (this.pgData) s.removeListener('data', this.pgData);
    s.pause();
    s.on('readable', onReadable);
  }

  get socket(): PgSocket {
    return this.connection.stream;
  }

  /** Give the socket back to pg, with `rest`: the bytes read from it that pg has not seen. */
  release(rest: Buffer): void {
    if (this.released) return;
    this.released = true;
    const s = this.connection.stream;
    s.removeListener('readable', this.onReadable);
    if (!this.pgData) return;
    s.on('data', this.pgData);
    if (rest.length) this.pgData(rest);
    process.nextTick(() => s.resume());
  }
}

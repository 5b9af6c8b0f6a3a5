/**
 * Global rate limits shared by every copy worker: token buckets for rows/s and bytes/s.
 * The COPY relay (rawcopy.ts) counts rows (CopyData messages) and bytes as they pass and
 * pauses reading from the source for as long as take() says.
 */

export class TokenBucket {
  private tokens = 0;
  private last = Date.now();
  constructor(
    private rate: number | null,
    private burstSec = 0.25,
  ) {
    // Starts empty, not with a full burst: the limit holds from the first row. A full bucket let a
    // copy of a few seconds run a quarter second's worth of rows over its limit.
    this.tokens = 0;
  }

  setRate(rate: number | null): void {
    this.refill();
    this.rate = rate;
    if (rate) this.tokens = Math.min(this.tokens, rate * this.burstSec);
  }

  get limit(): number | null {
    return this.rate;
  }

  private refill(): void {
    const now = Date.now();
    if (this.rate) {
      this.tokens = Math.min(this.rate * this.burstSec, this.tokens + ((now - this.last) / 1000) * this.rate);
    }
    this.last = now;
  }

  /** Take n tokens (going into debt) and return how long to wait before continuing. */
  take(n: number): number {
    if (!this.rate) return 0;
    this.refill();
    this.tokens -= n;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.rate) * 1000;
  }
}

export class Throttle {
  readonly rows: TokenBucket;
  readonly bytes: TokenBucket;
  constructor(maxRowsPerSec: number | null, maxBytesPerSec: number | null) {
    this.rows = new TokenBucket(maxRowsPerSec);
    this.bytes = new TokenBucket(maxBytesPerSec);
  }
  set(maxRowsPerSec: number | null, maxBytesPerSec: number | null): void {
    this.rows.setRate(maxRowsPerSec);
    this.bytes.setRate(maxBytesPerSec);
  }
  get active(): boolean {
    return this.rows.limit !== null || this.bytes.limit !== null;
  }
  /** ms to wait after moving rows/bytes. */
  take(rows: number, bytes: number): number {
    return Math.max(this.rows.take(rows), this.bytes.take(bytes));
  }
}

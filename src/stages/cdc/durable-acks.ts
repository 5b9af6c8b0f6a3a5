/**
 * Which applied source position the target has on disk. The apply commits asynchronously
 * (synchronous_commit = off): a COMMIT returns before its WAL is flushed. The source may release
 * its WAL only up to a source transaction whose target commit is durable, or a target crash would
 * lose changes the source no longer holds.
 */
import type { Lsn } from './lsn.js';

/**
 * Committed batches whose commit may not be on the target's disk yet: each source end position
 * waits for a target WAL insert position read after its COMMIT, then for the flushed position to
 * pass it. Only then may the source release the WAL before it.
 */
export class DurableAcks {
  /** Committed, no WAL position read since. */
  private unbounded: Lsn | null = null;
  /** [target WAL position past the commit, source end position], oldest first. */
  private waiting: [Lsn, Lsn][] = [];

  committed(sourceEnd: Lsn): void {
    this.unbounded = sourceEnd;
  }

  get settled(): boolean {
    return this.unbounded === null && this.waiting.length === 0;
  }

  /** Target WAL positions read after the last COMMIT: the source position now durable, if any. */
  observe(wal: { walInsert: Lsn; walFlush: Lsn }): Lsn | null {
    if (this.unbounded !== null) {
      this.waiting.push([wal.walInsert, this.unbounded]);
      this.unbounded = null;
    }
    let done: Lsn | null = null;
    let i = 0;
    while (i < this.waiting.length && this.waiting[i]![0] <= wal.walFlush) done = this.waiting[i++]![1];
    if (i) this.waiting = this.waiting.slice(i);
    return done;
  }
}

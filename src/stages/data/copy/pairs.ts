/**
 * Copy workers' session pairs (a source session in the snapshot, a target session), kept
 * across units, dropped on any failure, and closed down to the live job count.
 */
import type pg from 'pg';
import type { ConnSpec } from '../../../pg/connstring.js';
import type { SnapshotSource } from '../snapshot-source.js';
import { kill, openSession, SOURCE_SESSION, TARGET_SESSION } from './sessions.js';

export interface Pair {
  src?: pg.Client;
  /** The snapshot id the source session's transaction imported. */
  srcSnapshot?: string;
  tgt?: pg.Client;
}

export class PairPool {
  private idle: Pair[] = [];
  private busy = new Set<Pair>();

  constructor(
    private source: ConnSpec,
    private target: ConnSpec,
    private snapshot: SnapshotSource,
  ) {}

  take(): Pair {
    const p = this.idle.pop() ?? {};
    this.busy.add(p);
    return p;
  }

  /** A unit ended well: keep the pair for the next unit unless there are `jobs` pairs already. */
  release(p: Pair, jobs: number): void {
    this.busy.delete(p);
    if (this.idle.length + this.busy.size >= jobs) close(p);
    else this.idle.push(p);
  }

  /** A unit failed for good: its sessions go. */
  discard(p: Pair): void {
    this.busy.delete(p);
    drop(p);
  }

  /** Close idle pairs above `jobs` (after a live decrease). */
  trim(jobs: number): void {
    while (this.idle.length > 0 && this.idle.length + this.busy.size > jobs) close(this.idle.pop()!);
  }

  closeIdle(): void {
    for (const p of this.idle.splice(0)) close(p);
  }

  /** End every session at once (interrupt, or the end of the run). */
  dropBusy(): void {
    for (const p of this.busy) drop(p);
  }

  dropAll(): void {
    for (const p of [...this.idle, ...this.busy]) drop(p);
  }

  /** The pair's source session, in a transaction on the current snapshot. */
  async sourceIn(p: Pair): Promise<pg.Client> {
    if (!p.src) {
      p.srcSnapshot = undefined;
      p.src = await openSession(this.source, 'source', 'copy', SOURCE_SESSION);
    }
    if (p.srcSnapshot !== this.snapshot.id) {
      if (p.srcSnapshot !== undefined) await p.src.query('COMMIT');
      p.srcSnapshot = undefined;
      p.srcSnapshot = await this.snapshot.importInto(p.src);
    }
    return p.src;
  }

  async targetOf(p: Pair): Promise<pg.Client> {
    p.tgt ??= await openSession(this.target, 'target', 'copy', TARGET_SESSION);
    return p.tgt;
  }
}

export function drop(p: Pair): void {
  kill(p.src);
  kill(p.tgt);
  p.src = p.tgt = undefined;
  p.srcSnapshot = undefined;
}

function close(p: Pair): void {
  const { src, tgt } = p;
  p.src = p.tgt = undefined;
  if (src)
    src
      .query('COMMIT')
      .catch(() => {})
      .finally(() => src.end().catch(() => {}));
  if (tgt) tgt.end().catch(() => {});
}

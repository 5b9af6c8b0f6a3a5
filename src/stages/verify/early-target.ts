/**
 * The target side of count verification, read at the end of the data phase: once every row is in
 * (the copy's last unit committed) and the index builds are winding down (at most one statement still
 * runs), the tables whose source side was read early (./early.ts) are counted on the target —
 * the big ones largest first, then the small ones in batches — on a session of its own, beside the
 * last index builds and foreign key validations instead of after them. pgferry writes no row of a table
 * after its copy; post-data adds constraints and triggers, never rows. A table not counted by the
 * time verify starts (or whose count failed) is counted by verify, as before.
 */
import type pg from 'pg';
import type { TaskConfig } from '../../core/config.js';
import type { Redactor } from '../../core/redact.js';
import type { CopyTable } from '../data/plan/types.js';
import { qualify } from '../../core/ident.js';
import { batchesOf, countMany } from './count-batch.js';
import type { SourceSide } from './early.js';
import { openVerifySession } from './sessions.js';

/** Target row counts by table key, and the session that reads them. */
export class TargetCounts {
  readonly counts = new Map<string, number>();
  private session?: pg.Client;
  private stopped = false;
  /** Settles when the counting has ended (every table counted, or stopped). */
  readonly finished: Promise<void>;

  constructor(task: TaskConfig, side: SourceSide, redactor?: Redactor) {
    this.finished = this.run(task, side, redactor).catch(() => {});
  }

  /**
   * One session without parallel workers: what is left of the run at this point is a few statements
   * on as many cores, and the counts take one more core, not every idle one.
   */
  private async run(task: TaskConfig, side: SourceSide, redactor?: Redactor): Promise<void> {
    const known = side.tables.filter((t) => side.counts.has(t.key));
    const { batches, single } = batchesOf(known, side.small);
    // the biggest first (their source counts rank them), then the batches of small tables
    single.sort((a, b) => side.counts.get(b.key)! - side.counts.get(a.key)!);
    const work: CopyTable[][] = [...single.map((t) => [t]), ...batches];
    if (work.length === 0) return;
    try {
      const c = await openVerifySession(task.target, 'target', 'verify-target', redactor, true);
      this.session = c;
      for (const ts of work) {
        if (this.stopped) return;
        try {
          const n = await countMany(
            c,
            ts.map((t) => ({ rel: qualify(t.target.schema, t.target.name) })),
          );
          ts.forEach((t, i) => this.counts.set(t.key, n[i]));
        } catch {
          // a table missing or unreadable: verify counts it (and reports why)
        }
      }
    } finally {
      this.end();
    }
  }

  /** Counts no more tables once the one being counted is (verify counts the rest, in parallel). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.finished;
  }

  /** Stops at once: the session ends (a count under way is lost). */
  end(): void {
    this.stopped = true;
    this.session?.end().catch(() => {});
    this.session = undefined;
  }
}

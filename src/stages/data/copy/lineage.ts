/**
 * Which snapshot a table's rows come from. A unit is copied only in the snapshot lineage of the
 * table's units already done; when the snapshot was lost and replaced, such a table is emptied
 * and recopied whole (src/stages/data/copy/recopy.ts) once no unit of it runs, and the run says so.
 */
import type pg from 'pg';
import type { EventBus } from '../../../core/events.js';
import type { Pair, PairPool } from './pairs.js';
import type { Progress } from './progress.js';
import type { UnitQueue } from './queue.js';
import { recopyWhole, resetTableTarget } from './recopy.js';
import type { SnapshotSource } from '../snapshot-source.js';
import type { TableRun } from './types.js';

export interface LineageDeps {
  taskId: string;
  events: EventBus;
  snapshot: SnapshotSource;
  pairs: PairPool;
  queue: UnitQueue;
  progress: Progress;
  /** How many copied tables write into each target table (qualified name). */
  targetCount: Map<string, number>;
  /** Units were requeued. */
  wake(): void;
}

export class Lineages {
  /** Lineages of the units copied so far (earlier runs included). */
  readonly used = new Set<string>();
  /** The lineage units were last copied in by this run. */
  latest?: string;
  /** Who waits for a table's running unit attempts to end (a reset of the table does). */
  private waiters = new Map<TableRun, (() => void)[]>();

  constructor(private d: LineageDeps) {}

  /** The source session of `p` in the current snapshot, whose lineage `run` now matches. */
  async claim(p: Pair, run: TableRun): Promise<pg.Client> {
    for (;;) {
      const src = await this.d.pairs.sourceIn(p);
      if (p.srcSnapshot !== this.d.snapshot.id) continue;
      if (run.resetting) {
        await run.resetting;
        continue;
      }
      const lineage = this.d.snapshot.lineageOf(p.srcSnapshot);
      if (run.lineage === undefined || run.lineage === lineage) {
        run.lineage = lineage;
        run.inflight++;
        this.note(lineage);
        return src;
      }
      run.resetting = this.reset(p, run, lineage).finally(() => {
        run.resetting = undefined;
      });
      await run.resetting;
    }
  }

  /** A unit attempt that claim() let through has ended. */
  ended(run: TableRun): void {
    if (--run.inflight > 0) return;
    for (const w of this.waiters.get(run) ?? []) w();
    this.waiters.delete(run);
  }

  private idle(run: TableRun): Promise<void> {
    if (run.inflight === 0) return Promise.resolve();
    return new Promise<void>((res) => this.waiters.set(run, [...(this.waiters.get(run) ?? []), res]));
  }

  /** A lost snapshot is only reported when a unit is copied from its replacement. */
  note(lineage: string): void {
    if (this.used.has(lineage)) return;
    this.latest = lineage;
    if (this.used.size > 0) {
      this.d.events.warn(
        'source snapshot changed: units copied earlier came from a snapshot that is gone; the ' +
          `remaining units are copied from snapshot ${this.d.snapshot.id}, and tables with units from the earlier ` +
          'one are recopied whole',
      );
    }
    this.used.add(lineage);
  }

  /** Truncate the table and drop its checkpoints (one transaction), then queue all its units again. */
  private async reset(p: Pair, run: TableRun, lineage: string): Promise<void> {
    await this.idle(run);
    const redo = await recopyWhole(this.d, run, async () => {
      this.note(lineage);
      return resetTableTarget(await this.d.pairs.targetOf(p), this.d.taskId, run.table);
    });
    run.lineage = lineage;
    this.d.queue.requeue(redo);
    this.d.wake();
  }
}

/**
 * After the copy: do the tables' rows come from more than one snapshot? If so, say which tables
 * reflect an earlier point in time and how to prove the result. Returns CopyResult.snapshotFresh.
 */
export function reportSnapshots(events: EventBus, runs: TableRun[], latest: string | undefined): boolean {
  const kept = new Set(runs.map((r) => r.lineage).filter((l): l is string => l !== undefined));
  if (kept.size <= 1) return false;
  const earlier = runs.filter((r) => r.lineage !== undefined && r.lineage !== latest).map((r) => r.table.key);
  const list = `${earlier.slice(0, 20).join(', ')}${earlier.length > 20 ? `, … (${earlier.length - 20} more)` : ''}`;
  events.warn(
    latest
      ? `${earlier.length} table(s) finished from an earlier snapshot and reflect that earlier point in time: ${list}. ` +
          'Writes made on the source in between are not in them; stop writes on the source and run ' +
          '`pgferry verify --mode hash` to prove the target equals it'
      : `the copied tables come from ${kept.size} different snapshots (an earlier run lost its snapshot); stop writes ` +
          'on the source and run `pgferry verify --mode hash` to prove the target equals it',
  );
  return true;
}

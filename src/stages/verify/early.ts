/**
 * The source side of count verification, read early: the runner starts it when the data phase
 * starts; the target side is counted once every row is in and the run winds down (readTargetSide,
 * ./early-target.ts), and verify() reads the rest at the end on both sides (the object inventories,
 * sequences, large objects, and any table not counted yet). The source is read
 * in one exported snapshot taken when this starts and held until verify ends: every source read of
 * the verification, early or not, sees that one point in time.
 *
 * Read here: the copy list (unless the run gives its own, read in its snapshot), which tables are
 * small, and every table's row count (after its row filter): the small ones BATCH_TABLES per query,
 * then the others one by one. The object inventory is read by verify at the end, in this same
 * snapshot: held through the data phase it would cost about 1 kB a table. A table whose count was
 * not read by the time verify starts is counted by verify on both sides, as before. A failure here is
 * not an error: verify reads everything itself.
 */
import type pg from 'pg';
import { resolveConnSpec } from '../../pg/connstring.js';
import type { TaskConfig } from '../../core/config.js';
import { Selection } from '../../core/selection.js';
import type { Redactor } from '../../core/redact.js';
import { listCopyTables } from '../data/plan/tables.js';
import type { CopyTable } from '../data/plan/types.js';
import { ExportedSnapshot } from '../data/snapshot-source.js';
import { batchesOf, countSource, smallTables } from './count-batch.js';
import { openVerifySession } from './sessions.js';
import { TargetCounts } from './early-target.js';

/**
 * Copy lists longer than this are counted at the end instead: the early read is held through the data
 * phase, the run's peak. At 20,000 small tables it took the verify phase from 7.7–8.1 s to 3.8 s but
 * the peak RSS from 188–194 MB to 203 MB; at 2,000 it takes verify from about 0.8 s to 0.3 s.
 */
export const EARLY_VERIFY_MAX_TABLES = 5000;

/** What verify reads from the source alone, early. */
export interface SourceSide {
  tables: CopyTable[];
  /** Keys of the small tables (counted in batches). */
  small: Set<string>;
  /** Source row counts, by key. */
  counts: Map<string, number>;
  /** Target row counts read at the end of the data phase (./early-target.ts), by key. */
  targetCounts?: Map<string, number>;
}

/** Source schemas selected, by their target name. */
export async function targetSchemas(source: pg.Client, sel: Selection): Promise<Set<string>> {
  const schemas = new Set<string>();
  const r = await source.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace`);
  for (const n of r.rows) if (sel.schemaSelected(n.nspname)) schemas.add(sel.targetSchema(n.nspname));
  return schemas;
}

export class EarlySource {
  readonly snapshot: ExportedSnapshot;
  /** The source side, or undefined when it could not be read (verify then reads it itself). */
  readonly side: Promise<SourceSide | undefined>;
  private session: pg.Client | undefined;
  private closed = false;
  private taken = false;
  private target?: Promise<TargetCounts | undefined>;

  /** `tables`: the run's copy list (read in the run's snapshot), else listed again here. */
  constructor(
    private readonly task: TaskConfig,
    private readonly redactor?: Redactor,
    tables?: CopyTable[],
  ) {
    this.snapshot = new ExportedSnapshot(resolveConnSpec(task.source, { redactor }));
    this.side = this.read(tables).catch(() => {
      this.close();
      return undefined;
    });
  }

  private async read(listed?: CopyTable[]): Promise<SourceSide> {
    const sel = new Selection(this.task);
    await this.snapshot.open(null);
    // read beside the copy, which keeps the source busy: no parallel workers for the counts
    const c = await openVerifySession(this.task.source, 'source', 'verify-early', this.redactor, true);
    this.session = c;
    if (this.closed) throw new Error('closed');
    await this.snapshot.importInto(c);
    const tables = listed ?? (await listCopyTables(c, sel));
    const small = await smallTables(c, tables);
    const counts = new Map<string, number>();
    const { batches, single } = batchesOf(tables, small);
    for (const batch of batches) {
      if (this.closed) throw new Error('closed');
      const n = await countSource(c, batch);
      batch.forEach((t, i) => counts.set(t.key, n[i]));
    }
    // then the big tables one by one, so that at the end verify counts only their target side
    for (const t of single) {
      if (this.closed) throw new Error('closed');
      const [n] = await countSource(c, [t]);
      counts.set(t.key, n);
    }
    if (this.closed) throw new Error('closed');
    await c.query('COMMIT');
    await c.end();
    this.session = undefined;
    return { tables, small, counts };
  }

  /**
   * The source side for one verify (which then owns the snapshot and closes it); undefined when it
   * could not be read or was already taken (a verify retried after a failure reads for itself).
   */
  async take(): Promise<SourceSide | undefined> {
    if (this.taken) return undefined;
    this.taken = true;
    const side = await this.side;
    if (!side) {
      this.close();
      return undefined;
    }
    const target = await this.target;
    await target?.stop();
    return target ? { ...side, targetCounts: target.counts } : side;
  }

  /**
   * All rows are in and the data phase is winding down: the target side of the tables counted early
   * is read now (./early-target.ts). Once per copy: called again after resetTargets() only.
   */
  readTargetSide(): void {
    if (this.target || this.closed || this.taken) return;
    this.target = this.side.then((side) =>
      side && !this.closed && !this.taken ? new TargetCounts(this.task, side, this.redactor) : undefined,
    );
  }

  /** The target counts once all are read (undefined when readTargetSide() was not called or the source side failed). */
  async targetsCounted(): Promise<ReadonlyMap<string, number> | undefined> {
    const target = await this.target;
    await target?.finished;
    return target?.counts;
  }

  /** The copy runs again (a retry): target counts read so far are dropped, and read again at its end. */
  resetTargets(): void {
    const t = this.target;
    this.target = undefined;
    void t?.then((x) => x?.end());
  }

  /** Stops reading and lets the snapshot go (verify closes it when it used it). */
  close(): void {
    this.resetTargets();
    this.closed = true;
    this.session?.end().catch(() => {});
    this.session = undefined;
    this.snapshot.close();
  }
}

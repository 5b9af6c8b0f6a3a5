/**
 * The source side of count verification, read early: the runner starts it when the data phase
 * starts, and verify() then counts the target side only (read last, so that a row lost or doubled
 * on the target after its copy is still caught), with what is read at the end on both sides (the
 * object inventories, sequences, large objects). The source is read
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

  /** `tables`: the run's copy list (read in the run's snapshot), else listed again here. */
  constructor(task: TaskConfig, redactor?: Redactor, tables?: CopyTable[]) {
    this.snapshot = new ExportedSnapshot(resolveConnSpec(task.source, { redactor }));
    this.side = this.read(task, redactor, tables).catch(() => {
      this.close();
      return undefined;
    });
  }

  private async read(task: TaskConfig, redactor?: Redactor, listed?: CopyTable[]): Promise<SourceSide> {
    const sel = new Selection(task);
    await this.snapshot.open(null);
    const c = await openVerifySession(task.source, 'source', 'verify-early', redactor);
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
    if (!side) this.close();
    return side;
  }

  /** Stops reading and lets the snapshot go (verify closes it when it used it). */
  close(): void {
    this.closed = true;
    this.session?.end().catch(() => {});
    this.session = undefined;
    this.snapshot.close();
  }
}

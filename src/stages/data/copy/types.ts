/** Options and results of the data stage, and the per-table state it keeps while copying. */
import type { ConnSpec } from '../../../pg/connstring.js';
import type { Statement } from '../../../core/statement.js';
import type { CopyUnit, TableSize } from '../plan/units.js';
import type { CopyTable, QualifiedName } from '../plan/types.js';
import type { TaskConfig } from '../../../core/config.js';
import type { EventBus } from '../../../core/events.js';
import type { StateDir } from '../../../state/state-dir.js';
import type { Controls } from './controls.js';
import type { Format } from './format.js';
import type { SnapshotSource } from '../snapshot-source.js';
import type { DistributedCopy } from '../distributed/coordinator.js';

export interface CopyOptions {
  source: ConnSpec;
  target: ConnSpec;
  taskId: string;
  /** Target tables already exist (pre-data schema applied). */
  tables: CopyTable[];
  /** Index/PK statements (section 'early', Statement.table = CopyTable.key), run per table once its data landed. */
  early: Statement[];
  /** setval on target from values read in the snapshot. */
  sequences: { source: QualifiedName; target: QualifiedName }[];
  jobs: number;
  indexJobs: number;
  copy: TaskConfig['copy'];
  events: EventBus;
  /** Live rate limits, jobs and pause; made from `copy` and `jobs` when absent. */
  controls?: Controls;
  /** Without `controls`: control.json of this state dir is polled ~1/s into the run's controls. */
  state?: StateDir;
  /**
   * The snapshot to copy in, opened by the caller (who closes it) before it read the catalog;
   * without one the stage opens its own, re-importing the earlier run's when it still exists.
   */
  snapshot?: SnapshotSource;
  /** Units run by workers through a control database (src/stages/data/distributed/), not by this process's pump. */
  distributed?: DistributedCopy;
  /**
   * Late statements with Statement.after (foreign keys between copied tables) that may run in this
   * stage once their tables are complete, on the index sessions; those run are in CopyResult.lateDone.
   */
  foreignKeys?: Statement[];
  /**
   * Called once per run of the stage when every row is in (the last unit committed) and at most one
   * index build, ANALYZE or foreign key statement still runs: the run winds down and the target has
   * room for other reads (the runner counts the target side of verification then).
   */
  onWindDown?: () => void;
  /** Never COPY FREEZE (which empties an empty table in the unit's transaction first). */
  noFreeze?: boolean;
  signal?: AbortSignal;
}

export interface CopyTableResult {
  key: string;
  /** Rows/bytes of the whole table, including units done by earlier runs. */
  rows: number;
  bytes: number;
  durationMs: number;
  units: number;
  /** Units skipped because an earlier run had copied them. */
  skippedUnits: number;
  /** COPY format of this table (text when a column type rules binary out, see src/stages/data/copy/format.ts). */
  format: Format;
  /** Recopied whole in this run: its earlier units came from a snapshot that is gone. */
  recopied: boolean;
}

export interface CopyResult {
  tables: CopyTableResult[];
  /** True when rows already copied came from another snapshot than the rest (resume after the snapshot was lost). */
  snapshotFresh: boolean;
  retries: number;
  sequences: number;
  /** COPY format of the run; tables whose columns rule binary out go as text (CopyTableResult.format). */
  format: 'text' | 'binary';
  snapshot: string;
  /** Keys of the late statements (CopyOptions.foreignKeys) this stage ran: post-data leaves them out. */
  lateDone: string[];
  /** Large objects on the target after the run (set by the runner, which copies them after the tables). */
  largeObjects?: number;
}

/** A table while it is copied. */
export interface TableRun {
  table: CopyTable;
  size?: TableSize;
  units: CopyUnit[];
  left: number;
  skipped: number;
  rows: number;
  bytes: number;
  liveRows: number;
  liveBytes: number;
  started?: number;
  durationMs: number;
  freezeOk: boolean;
  copiedThisRun: boolean;
  format: Format;
  /** Lineage of the snapshot the table's done units were copied in (undefined: none done yet). */
  lineage?: string;
  /** Unit attempts running now (after their lineage check). */
  inflight: number;
  /** Units done (earlier runs included) in `lineage`. */
  doneIds: Set<string>;
  /** Set while the table is being reset for a recopy. */
  resetting?: Promise<void>;
  /** The table was recopied whole in this run (its earlier units came from another snapshot). */
  recopied: boolean;
  /**
   * reg* columns, whose values travel as names. Sessions run with an empty search_path, so the
   * names print schema-qualified; with a row filter the source prints them relative to its starting
   * search_path (the filter's), and the target reads them with that path too (see worker.ts).
   */
  qualifyNames: boolean;
}

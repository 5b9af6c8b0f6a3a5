/**
 * Precheck: the list of items checked before a migration writes anything, their stable ids,
 * levels and results. A precheck never writes to either side (both sessions are read-only).
 */
import type pg from 'pg';
import type { PingResult } from '../../pg/ping.js';
import type { TaskConfig } from '../../core/config.js';
import type { Selection } from '../../core/selection.js';
import type { SourceModel } from './model.js';
import type { SourceCatalog } from '../schema/catalog/introspect.js';
import type { Redactor } from '../../core/redact.js';
import type { Statement } from '../../core/statement.js';

export type Severity = 'error' | 'warning' | 'info';
export type ItemResult = 'passed' | 'failed' | 'warning' | 'skipped';

export interface CheckItem {
  id: string;
  title: string;
  severity: Severity;
  result: ItemResult;
  message: string;
  /** Affected objects, capped at MAX_OBJECTS; objectCount has the full number. */
  objects: string[];
  objectCount: number;
  hint?: string;
}

export interface PrecheckReport {
  ok: boolean;
  items: CheckItem[];
  durationMs: number;
}

export const MAX_OBJECTS = 20;

export interface Thresholds {
  /** A transaction open longer than this is reported (source.long-transactions). Default 300 s. */
  longTransactionSec: number;
  /** A session idle in transaction longer than this is reported. Default 60 s. */
  idleInTransactionSec: number;
  /** More active sessions than this on the source is reported (source.load). Default 8. */
  activeSessions: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = { longTransactionSec: 300, idleInTransactionSec: 60, activeSessions: 8 };

export interface PrecheckOptions {
  /** Checkpoint task id on the target: objects an earlier interrupted run recorded are no conflicts. */
  taskId?: string;
  /** Item ids to skip (besides task.skipChecks). */
  skip?: string[];
  thresholds?: Partial<Thresholds>;
  /** Learns the task's passwords (default: the command line's redactor). */
  redactor?: Redactor;
  /** The source catalog the caller read (a run: in its snapshot); read here when absent. */
  catalog?: SourceCatalog;
  /** The DDL the caller generated from `catalog` (a run applies exactly this): planned here, not generated again. */
  ddl?: Statement[];
  /** The task's replication slot, created by the run already (its snapshot is the run's): no further one is needed. */
  heldSlot?: string;
  /** Tables the run leaves out (Selection.leaveOut): partitions an incremental task's stream brings. */
  leaveOut?: string[];
}

/** What a check function returns (the runner adds id, title and severity bookkeeping). */
export interface Outcome {
  result: 'passed' | 'failed' | 'warning' | 'skipped';
  message: string;
  objects?: string[];
  hint?: string;
  /** Level of a failed/warning outcome; defaults to the item's level for failed, 'warning' for warning. */
  severity?: Severity;
}

export interface Ctx {
  task: TaskConfig;
  sel: Selection;
  taskId?: string;
  /** See PrecheckOptions.heldSlot. */
  heldSlot?: string;
  /** `source` is inside its caller's READ ONLY transaction (plan): a check nests a savepoint, not a transaction. */
  inTransaction?: boolean;
  thresholds: Thresholds;
  sourcePing: PingResult;
  targetPing: PingResult;
  /** Read-only sessions; undefined when the side is unreachable. */
  source?: pg.Client;
  target?: pg.Client;
  sourceVersion: number;
  targetVersion: number;
  /** Catalog facts about the selected objects, read once from the source. */
  model?: SourceModel;
  /** The one catalog read the model is a view of; the checks that plan the DDL use it. */
  catalog?: SourceCatalog;
  /** See PrecheckOptions.ddl. */
  ddl?: Statement[];
}

export interface CheckDef {
  id: string;
  title: string;
  /** Highest level this item reports. */
  level: Severity;
  /** Error-level items that `--skip` may turn off (warning/info items always can). */
  skippable?: boolean;
  needs: ('source' | 'target' | 'model')[];
  run(ctx: Ctx): Promise<Outcome>;
}

export const passed = (message: string, objects?: string[]): Outcome => ({ result: 'passed', message, objects });
export const failed = (message: string, objects: string[], hint?: string, severity?: Severity): Outcome => ({
  result: 'failed',
  message,
  objects,
  hint,
  severity,
});
export const warning = (message: string, objects: string[], hint?: string): Outcome => ({
  result: 'warning',
  message,
  objects,
  hint,
  severity: 'warning',
});

export function plural(n: number, one: string, many = one + 's'): string {
  return `${n} ${n === 1 ? one : many}`;
}

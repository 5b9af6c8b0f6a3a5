/** The shapes of the pgferry serve API (prefix /api) as the console reads them. */

export type TaskStatus =
  | 'created'
  | 'prechecking'
  | 'running'
  | 'paused'
  | 'failed'
  | 'retrying'
  | 'stopped'
  | 'done'
  | 'mismatch';

export interface CauseFix {
  cause: string;
  fix: string;
  code?: string;
  field?: string;
}

export interface Progress {
  rowsDone: number;
  rowsTotal: number;
  bytesDone: number;
  bytesTotal: number;
  rowsPerSec: number;
  etaSec: number | null;
}

export interface TaskSummary {
  id: string;
  status: TaskStatus;
  phase: string;
  progress?: Progress;
  attempts: number;
  nextAttemptAt?: string;
  error?: CauseFix;
  createdAt: string;
  updatedAt: string;
  runner?: 'server' | 'other' | 'none';
  /** Another runner that has stopped renewing its lease: "owner unreachable, lease expires in N s". */
  runnerNote?: string;
}

export type StageName = 'precheck' | 'schema' | 'data' | 'post-data' | 'verify';

export interface StageInfo {
  name: StageName;
  status: string;
  startedAt?: string;
  endedAt?: string;
  durationMs?: number;
}

export interface TableProgress {
  name: string;
  rowsDone: number;
  rowsTotal: number;
  bytesDone: number;
  status: string;
}

export interface Limits {
  rowsPerSec?: number | null;
  bytesPerSec?: number | null;
  jobs: number;
}

export interface TaskDetail extends TaskSummary {
  config: Record<string, unknown>;
  stages: StageInfo[];
  tables: TableProgress[];
  limits: Limits;
  cleanupSql?: string;
}

export interface PingReply {
  ok: boolean;
  serverVersion?: string;
  latencyMs?: number;
  error?: CauseFix;
}

export interface CatalogColumn {
  name: string;
  type: string;
  nullable: boolean;
}

export interface CatalogTable {
  name: string;
  kind: string;
  rowEstimate: number;
  bytes: number;
  columns: CatalogColumn[];
}

export interface CatalogSchema {
  name: string;
  tables: CatalogTable[];
}

export type CheckResult = 'pass' | 'warning' | 'fail' | 'skipped';

export interface PrecheckItem {
  id: string;
  title: string;
  result: CheckResult;
  message: string;
  objects: string[];
  fix?: string;
}

export interface PrecheckReply {
  ok: boolean;
  items: PrecheckItem[];
}

/** A server-sent event as the console keeps it. */
export interface ServerEvent {
  seq: number;
  type: string;
  at?: string;
  [key: string]: unknown;
}

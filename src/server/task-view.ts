/**
 * A task as the API shows it: the summary (status, phase, progress, attempts, error) and the
 * detail (config with passwords masked, stages, tables, limits), read from the task's record, the
 * service's own state, the run in this process if any, and the state dir's events and progress.
 */
import type { TimedEvent } from '../core/events.js';
import type { ProgressSummary } from '../engine/task-record.js';
import { readEventsFile } from '../stages/report/index.js';
import { readProgressFile } from '../state/progress-file.js';
import { readControls, type StateDir } from '../state/state-dir.js';
import type { TaskRecord } from '../state/store.js';
import {
  STAGE_NAMES,
  type Limits,
  type Stage,
  type TableRow,
  type TaskDetail,
  type TaskSummary,
} from './api-schemas.js';
import type { ServiceState } from './service-state.js';

/** What the manager knows of a task now. */
export interface TaskFacts {
  record: TaskRecord;
  service?: ServiceState;
  /** A run of this task is under way in this server (migrate or verify). */
  live: boolean;
  /** Another process (e.g. `pgferry migrate`) holds the task's lease: who. */
  other?: string;
  /** That process has stopped renewing the lease yet is not known gone: "owner unreachable, lease expires in N s". */
  otherNote?: string;
  prechecking: boolean;
  state: StateDir;
  lastProgress?: Extract<TimedEvent, { type: 'progress' }>;
}

type Status = TaskSummary['status'];

function statusOf(f: TaskFacts): Status {
  const s = f.service;
  if (f.prechecking) return 'prechecking';
  if (f.live || f.other !== undefined) {
    if (f.record.phase === 'precheck') return 'prechecking';
    return readControls(f.state)?.paused ? 'paused' : 'running';
  }
  if (s?.desired === 'run' && s.nextAttemptAt) return 'retrying';
  if (s?.desired === 'stop') return 'stopped';
  if (s?.outcome === 'done' || s?.outcome === 'mismatch' || s?.outcome === 'failed') return s.outcome;
  switch (f.record.status) {
    case 'done':
      return 'done';
    case 'failed':
    case 'running': // left running by a process that is gone
      return 'failed';
    default:
      return 'created';
  }
}

/** This server's latest progress event, else the state dir's, else the task record's (a run on another host). */
function progressOf(f: TaskFacts): TaskSummary['progress'] {
  const p = f.lastProgress ?? readProgressFile(f.state) ?? (f.record.info.progress as ProgressSummary | undefined);
  if (!p) return undefined;
  return {
    rowsDone: p.rows,
    rowsTotal: p.estRows,
    bytesDone: p.bytes,
    bytesTotal: p.estBytes,
    rowsPerSec: p.rowsPerSec,
    etaSec: p.etaSec,
  };
}

function errorOf(f: TaskFacts): TaskSummary['error'] {
  if (f.service?.error) return { cause: f.service.error.cause, fix: f.service.error.fix };
  const e = f.record.info.error;
  if (f.record.status === 'failed' && typeof e === 'string')
    return { cause: e, fix: 'see the report, fix the cause, start again' };
  return undefined;
}

export function summarize(f: TaskFacts): TaskSummary {
  const s: TaskSummary = {
    id: f.record.id,
    status: statusOf(f),
    phase: f.record.phase,
    attempts: f.service?.attempts ?? 0,
    createdAt: f.record.createdAt,
    updatedAt: f.record.updatedAt,
    runner: f.live ? 'server' : f.other !== undefined ? 'other' : 'none',
  };
  if (f.otherNote !== undefined) s.runnerNote = f.otherNote;
  const progress = progressOf(f);
  if (progress) s.progress = progress;
  if (s.status === 'retrying' && f.service?.nextAttemptAt) s.nextAttemptAt = f.service.nextAttemptAt;
  const error = errorOf(f);
  if (error && (s.status === 'failed' || s.status === 'retrying')) s.error = error;
  return s;
}

/** The events of the latest run: after its task-start. */
function lastRun(events: TimedEvent[]): TimedEvent[] {
  let at = events.length - 1;
  while (at >= 0 && events[at].type !== 'task-start') at--;
  return at >= 0 ? events.slice(at) : [];
}

function stagesOf(events: TimedEvent[]): Stage[] {
  return STAGE_NAMES.map((name) => {
    const start = events.find((e) => e.type === 'phase-start' && e.phase === name);
    const end = events.find((e) => e.type === 'phase-end' && e.phase === name);
    if (!start) return { name, status: 'pending' };
    const st: Stage = { name, status: 'running', startedAt: start.at };
    if (end?.type === 'phase-end') {
      Object.assign(st, { status: end.ok ? 'done' : 'failed', endedAt: end.at, durationMs: end.durationMs });
    }
    return st;
  });
}

function tablesOf(events: TimedEvent[], progress?: TaskFacts['lastProgress']): TableRow[] {
  const rows = new Map<string, TableRow>();
  for (const e of events) {
    if (e.type === 'table-start') {
      rows.set(e.table, { name: e.table, rowsDone: 0, rowsTotal: e.estRows, bytesDone: 0, status: 'copying' });
    } else if (e.type === 'unit-done' && rows.has(e.table)) {
      const t = rows.get(e.table)!;
      t.rowsDone += e.rows;
      t.bytesDone += e.bytes;
    } else if (e.type === 'table-done') {
      const t = rows.get(e.table) ?? { name: e.table, rowsDone: 0, rowsTotal: e.rows, bytesDone: 0, status: 'done' };
      Object.assign(t, {
        rowsDone: e.rows,
        bytesDone: e.bytes,
        rowsTotal: Math.max(t.rowsTotal, e.rows),
        status: 'done',
      });
      rows.set(e.table, t);
    }
  }
  for (const a of progress?.active ?? []) {
    const t = rows.get(a.table);
    if (t && t.status === 'copying')
      Object.assign(t, { rowsDone: Math.max(t.rowsDone, a.rows), bytesDone: Math.max(t.bytesDone, a.bytes) });
  }
  return [...rows.values()];
}

export function limitsOf(record: TaskRecord, state: StateDir): Limits {
  const cfg = record.config as {
    jobs?: number;
    copy?: { maxRowsPerSec?: number | null; maxBytesPerSec?: number | null };
  };
  const c = readControls(state) ?? {};
  return {
    rowsPerSec: c.maxRowsPerSec !== undefined ? c.maxRowsPerSec : (cfg.copy?.maxRowsPerSec ?? null),
    bytesPerSec: c.maxBytesPerSec !== undefined ? c.maxBytesPerSec : (cfg.copy?.maxBytesPerSec ?? null),
    jobs: c.jobs ?? cfg.jobs ?? 4,
    paused: c.paused === true,
  };
}

export function detail(f: TaskFacts, config: Record<string, unknown>): TaskDetail {
  const events = lastRun(readEventsFile(f.state));
  return {
    ...summarize(f),
    config,
    stages: stagesOf(events),
    tables: tablesOf(events, f.lastProgress),
    limits: limitsOf(f.record, f.state),
  };
}

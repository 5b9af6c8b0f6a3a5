/**
 * What a task is doing or did, read from its state dir (task.json, events.jsonl, progress.json, the pid lock)
 * and, when the target is reachable, from its checkpoint rows. Read-only: safe while another
 * process runs the task.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { FerryEvent, Phase, TimedEvent, WorkerView } from '../../core/events.js';
import { type Controls, readControls, type StateDir } from '../../state/state-dir.js';
import { plural } from '../../core/plural.js';
import { fmtBytes } from '../../core/size.js';
import { readTaskCheckpoints } from './checkpoint-access.js';
import { captureLines } from './capture-status.js';
import type { CheckpointTotals } from './checkpoints.js';
import { readEventsFile } from './index.js';
import { readProgressFile, withProgress } from '../../state/progress-file.js';

export interface TaskJson {
  name?: string;
  source?: string;
  target?: string;
  startedAt?: string;
  phase?: string;
  status?: string;
  error?: string;
  /** Written by `pgferry cutover` (src/engine/cutover.ts). */
  cutover?: { state?: string; result?: { targetReadyAt?: string; downtimeMs?: number } };
  config?: {
    stateSchema?: string;
    jobs?: number;
    copy?: { maxRowsPerSec?: number | null; maxBytesPerSec?: number | null };
  };
}

/** Committed copy work over every run. */
export interface Copied {
  tablesSelected: number | null;
  tablesDone: number;
  rows: number;
  bytes: number;
  from: 'checkpoints' | 'events';
}

/** The limits a task's copy runs with: control.json (throttle) over the task's settings. */
export interface Limits {
  jobs: number | null;
  maxRowsPerSec: number | null;
  maxBytesPerSec: number | null;
  /** control.json / task store: changed by `pgferry throttle` (or by hand); task: as the task was started. */
  from: 'control.json' | 'task store' | 'task';
}

export interface TableProgress {
  table: string;
  units: number | null;
  unitsDone: number;
  rows: number;
  bytes: number;
  estRows: number | null;
  estBytes: number | null;
  done: boolean;
}

/** The task's totals on the target over every run (committed units and objects). */
export type CheckpointStatus = CheckpointTotals;

/** The copy's totals as the `progress` event carries them. */
export type CopyProgress = Omit<Extract<FerryEvent, { type: 'progress' }>, 'type' | 'active'>;

export interface TaskStatus {
  task: string;
  dir: string;
  running: boolean;
  pid: number | null;
  /** Who runs the task, as its lease in a shared task store names it (`status --store`). */
  holder?: string;
  /** That holder has stopped renewing its lease: "owner unreachable, lease expires in N s". */
  holderNote?: string;
  status: string | null;
  phase: string | null;
  source: string | null;
  target: string | null;
  startedAt: string | null;
  lastEventAt: string | null;
  /** The last phase seen in the events and whether it is still open. */
  lastPhase: { phase: Phase; state: 'running' | 'done' | 'failed' } | null;
  tables: TableProgress[];
  /** The last `progress` event, without its per-table part. */
  progress: CopyProgress | null;
  warnings: number;
  retries: number;
  error: string | null;
  ended: { ok: boolean; durationMs: number; at: string } | null;
  checkpoint: CheckpointStatus | null;
  checkpointError?: string;
  /** Tables recopied whole because their earlier units came from a snapshot that was gone. */
  recopied: string[];
  /** The checkpoints were not readable because the target refused or could not be reached. */
  checkpointConnectFailed?: boolean;
  limits: Limits | null;
  /** Committed copy work: from the checkpoints, else from unit-done events (sent after each commit). */
  copied: Copied;
  /** An incremental task's completed cutover: when the target was ready and how long writes stopped. */
  cutOver?: { at: string; downtimeMs: number | null };
  /** Workers of a distributed copy, as the coordinator last saw them (and when). */
  workers?: { at: string; workers: WorkerView[] } | null;
}

/** Task names with a state dir under root. */
export function listTasks(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((n) => !n.startsWith('.') && statSync(join(root, n)).isDirectory())
    .sort();
}

export function summariseEvents(
  events: TimedEvent[],
): Pick<
  TaskStatus,
  | 'lastPhase'
  | 'tables'
  | 'progress'
  | 'warnings'
  | 'retries'
  | 'error'
  | 'ended'
  | 'lastEventAt'
  | 'recopied'
  | 'workers'
> {
  let workers: TaskStatus['workers'] = null;
  const recopied = new Set<string>();
  const tables = new Map<string, TableProgress>();
  const get = (t: string) => {
    let x = tables.get(t);
    if (!x)
      tables.set(
        t,
        (x = { table: t, units: null, unitsDone: 0, rows: 0, bytes: 0, estRows: null, estBytes: null, done: false }),
      );
    return x;
  };
  let lastPhase: TaskStatus['lastPhase'] = null;
  let progress: TaskStatus['progress'] = null;
  let warnings = 0;
  let retries = 0;
  let error: string | null = null;
  let ended: TaskStatus['ended'] = null;
  for (const e of events) {
    switch (e.type) {
      case 'task-start':
        // a rerun: progress restarts from the checkpoints (skipped units are reported in table-done)
        ended = null;
        error = null;
        break;
      case 'phase-start':
        lastPhase = { phase: e.phase, state: 'running' };
        break;
      case 'phase-end':
        lastPhase = { phase: e.phase, state: e.ok ? 'done' : 'failed' };
        break;
      case 'table-start': {
        const t = get(e.table);
        t.units = e.units;
        t.estRows = e.estRows;
        t.estBytes = e.estBytes;
        // rows and units are not reset on a rerun: each unit-done follows its commit, once over all runs
        break;
      }
      case 'unit-done': {
        const t = get(e.table);
        t.unitsDone++;
        t.rows += e.rows;
        t.bytes += e.bytes;
        break;
      }
      case 'table-done': {
        const t = get(e.table);
        t.done = true;
        break;
      }
      case 'progress': {
        // The event's totals: everything but its envelope and its per-table part.
        const { type: _type, active: _active, at: _at, task: _task, seq: _seq, ...totals } = e;
        progress = totals;
        break;
      }
      case 'log':
        if (e.level === 'warn') warnings++;
        if (e.level === 'error') error = e.message;
        break;
      case 'retry':
        retries++;
        break;
      case 'workers':
        workers = { at: e.at, workers: e.workers };
        break;
      case 'task-end':
        ended = { ok: e.ok, durationMs: e.durationMs, at: e.at };
        if (e.error) error = e.error;
        break;
      case 'table-recopy': {
        const t = get(e.table);
        t.unitsDone = 0;
        t.rows = 0;
        t.bytes = 0;
        t.done = false;
        recopied.add(e.table);
        break;
      }
      default:
        break;
    }
  }
  return {
    lastPhase,
    tables: [...tables.values()].sort((a, b) => a.table.localeCompare(b.table)),
    progress,
    warnings,
    retries,
    error,
    ended,
    lastEventAt: events.length ? events[events.length - 1].at : null,
    recopied: [...recopied].sort(),
    workers,
  };
}

/** Limits in effect: control.json wins over the task's settings (as the running copy applies them). */
export function limitsOf(state: StateDir, info: TaskJson | undefined): Limits | null {
  return limitsFrom(readControls(state), info, 'control.json');
}

/** Limits in effect: live controls (`from`) win over the task's settings. */
export function limitsFrom(ctl: Controls | undefined, info: TaskJson | undefined, from: Limits['from']): Limits | null {
  const copy = info?.config?.copy;
  if (!ctl && !info?.config) return null;
  const pick = (k: 'maxRowsPerSec' | 'maxBytesPerSec') =>
    ctl && ctl[k] !== undefined ? (ctl[k] ?? null) : (copy?.[k] ?? null);
  return {
    jobs: ctl?.jobs ?? info?.config?.jobs ?? null,
    maxRowsPerSec: pick('maxRowsPerSec'),
    maxBytesPerSec: pick('maxBytesPerSec'),
    from: ctl ? from : 'task',
  };
}

/** Per-table progress from the events, corrected by the committed checkpoints. */
export function mergeTables(tables: TableProgress[], cp: CheckpointTotals | null): TableProgress[] {
  if (!cp) return tables;
  const byName = new Map(tables.map((t) => [t.table, { ...t }]));
  for (const c of cp.tables) {
    const t = byName.get(c.table) ?? {
      table: c.table,
      units: null,
      unitsDone: 0,
      rows: 0,
      bytes: 0,
      estRows: null,
      estBytes: null,
      done: false,
    };
    t.units = c.units ?? t.units;
    t.unitsDone = c.unitsDone;
    t.rows = c.rows;
    t.bytes = c.bytes;
    t.done = t.units !== null ? c.unitsDone >= t.units : t.done;
    byName.set(c.table, t);
  }
  return [...byName.values()].sort((a, b) => a.table.localeCompare(b.table));
}

export function copiedOf(tables: TableProgress[], cp: CheckpointTotals | null): TaskStatus['copied'] {
  if (cp) {
    return {
      tablesSelected: cp.tablesSelected,
      tablesDone: cp.tablesDone,
      rows: cp.rows,
      bytes: cp.bytes,
      from: 'checkpoints',
    };
  }
  const sum = (f: (t: TableProgress) => number) => tables.reduce((a, t) => a + f(t), 0);
  const tablesDone = tables.filter((t) => t.done).length;
  return { tablesSelected: null, tablesDone, rows: sum((t) => t.rows), bytes: sum((t) => t.bytes), from: 'events' };
}

function readTaskJson(state: StateDir): TaskJson | undefined {
  try {
    return state.readJson<TaskJson>('task.json');
  } catch {
    return undefined;
  }
}

export async function readStatus(
  state: StateDir,
  opts: { target?: string; checkpoints?: boolean } = {},
): Promise<TaskStatus> {
  const info = readTaskJson(state);
  const pid = state.runningPid() ?? null;
  const ev = summariseEvents(withProgress(readEventsFile(state), readProgressFile(state)));
  const target = opts.target ?? info?.target ?? null;
  const read = target !== null && opts.checkpoints !== false;
  const cp = read
    ? await readTaskCheckpoints(target, state.task, opts.target !== undefined, info?.config?.stateSchema)
    : undefined;
  const checkpoint = cp?.totals ?? null;
  const tables = mergeTables(ev.tables, checkpoint);
  const out: TaskStatus = {
    task: state.task,
    dir: state.dir,
    running: pid !== null,
    pid,
    status: info?.status ?? null,
    phase: info?.phase ?? null,
    source: info?.source ?? null,
    target: info?.target ?? target,
    startedAt: info?.startedAt ?? null,
    ...ev,
    tables,
    error: info?.error ?? ev.error,
    checkpoint,
    ...(cp?.error ? { checkpointError: cp.error, checkpointConnectFailed: cp.connect === true } : {}),
    limits: limitsOf(state, info),
    copied: copiedOf(tables, checkpoint),
  };
  if (out.status === 'running' && !out.running) out.status = 'interrupted';
  const cut = info?.cutover;
  if (cut?.state === 'done') {
    out.cutOver = { at: cut.result?.targetReadyAt ?? '?', downtimeMs: cut.result?.downtimeMs ?? null };
  }
  return out;
}

const n = (x: number | null) => (x === null ? '?' : x.toLocaleString('en-US'));

function limitsLine(l: Limits): string {
  const rows = l.maxRowsPerSec ? `${n(l.maxRowsPerSec)} rows/s` : 'rows/s unlimited';
  const bytes = l.maxBytesPerSec ? `${fmtBytes(l.maxBytesPerSec)}/s` : 'bytes/s unlimited';
  return `  limits: ${l.jobs !== null ? `${plural(l.jobs, 'job')}, ` : ''}${rows}, ${bytes} (from ${l.from})`;
}

function progressLines(s: TaskStatus): string[] {
  const L: string[] = [];
  const c = s.copied;
  const of =
    c.tablesSelected !== null
      ? `${n(c.tablesDone)} of ${plural(c.tablesSelected, 'table')} done`
      : `${plural(c.tablesDone, 'table')} done`;
  const src = c.from === 'checkpoints' ? 'committed on the target' : 'committed, from the event log';
  L.push(`  copied: ${plural(c.rows, 'row')}, ${fmtBytes(c.bytes)}; ${of} (${src})`);
  if (s.running && s.progress) {
    const eta = s.progress.etaSec !== null ? `, ETA ${Math.round(s.progress.etaSec)} s` : '';
    L.push(`  rate: ${n(s.progress.rowsPerSec)} rows/s, ${fmtBytes(s.progress.bytesPerSec)}/s${eta}`);
  }
  if (s.workers) {
    L.push(`  workers (as of ${s.workers.at}):`);
    for (const w of s.workers.workers) {
      L.push(
        `    ${w.host} pid ${w.pid}: ${plural(w.unitsDone, 'unit')}, ${plural(w.rows, 'row')}, ${n(w.rowsPerSec)} rows/s, CPU ${w.cpuSec.toFixed(1)} s, heartbeat ${w.heartbeatAgeSec} s before`,
      );
    }
  }
  for (const t of s.tables.filter((x) => !x.done)) {
    L.push(
      `    ${t.table}: ${t.unitsDone}/${t.units ?? '?'} units, ${n(t.rows)}${t.estRows ? `/~${n(t.estRows)}` : ''} rows`,
    );
  }
  return L;
}

function checkpointLine(s: TaskStatus): string | undefined {
  const c = s.checkpoint;
  if (c) {
    const tables = plural(c.tables.length, 'table');
    const done = `${c.unitsDone} units / ${n(c.rows)} rows done in ${tables}, ${plural(c.objectsDone, 'object')}`;
    return `  target checkpoints: status ${c.status}, phase ${c.phase ?? '-'}, ${done} (updated ${c.updatedAt})`;
  }
  if (s.checkpointError) return `  target checkpoints: ${s.checkpointError}`;
  if (s.target) return '  target checkpoints: none for this task';
  return undefined;
}

export function renderStatus(s: TaskStatus): string {
  const L: string[] = [];
  L.push(
    `task ${s.task}: ${s.running ? `RUNNING (${s.holder ?? `pid ${s.pid}`}${s.holderNote ? `; ${s.holderNote}` : ''})` : (s.status ?? 'unknown').toUpperCase()}${s.phase ? `, phase ${s.phase}` : ''}`,
  );
  if (s.source || s.target) L.push(`  ${s.source ?? '?'} → ${s.target ?? '?'}`);
  if (s.startedAt) L.push(`  started ${s.startedAt}${s.lastEventAt ? `, last event ${s.lastEventAt}` : ''}`);
  if (s.lastPhase) L.push(`  last phase: ${s.lastPhase.phase} (${s.lastPhase.state})`);
  if (s.limits) L.push(limitsLine(s.limits));
  if (s.tables.length || s.checkpoint || (s.running && s.progress)) L.push(...progressLines(s));
  if (s.cutOver) {
    const down =
      s.cutOver.downtimeMs === null ? '' : `, writes stopped for ${(s.cutOver.downtimeMs / 1000).toFixed(2)} s`;
    L.push(`  cut over to the target at ${s.cutOver.at}${down}; slot and publication dropped`);
  } else if (s.checkpoint?.capture) L.push(...captureLines(s.checkpoint.capture, s.task, s.running));
  if (s.recopied.length) L.push(`  recopied whole (earlier units came from a lost snapshot): ${s.recopied.join(', ')}`);
  if (s.warnings) L.push(`  ${plural(s.warnings, 'warning')}`);
  if (s.retries) L.push(`  ${plural(s.retries, 'retry', 'retries')}`);
  if (s.ended) L.push(`  ended ${s.ended.at}: ${s.ended.ok ? 'ok' : 'failed'}`);
  if (s.error) L.push(`  error: ${s.error}`);
  const cp = checkpointLine(s);
  if (cp) L.push(cp);
  return L.join('\n');
}

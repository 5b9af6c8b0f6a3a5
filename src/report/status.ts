/**
 * What a task is doing or did, read from its state dir (task.json, events.jsonl, progress.json, the pid lock)
 * and, when the target is reachable, from its checkpoint rows. Read-only: safe while another
 * process runs the task.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { withClient } from '../conn/connect.js';
import { resolveConnSpec } from '../conn/connstring.js';
import { errorMessage } from '../errors.js';
import { checkpointSchemaExists, DEFAULT_STATE_SCHEMA } from '../task/checkpoint.js';
import { qualify } from '../util/ident.js';
import type { Phase, TimedEvent } from '../task/events.js';
import { StateDir } from '../task/state.js';
import { readEventsFile } from './index.js';
import { readProgressFile, withProgress } from '../state/progress-file.js';

export interface TaskJson {
  name?: string;
  source?: string;
  target?: string;
  startedAt?: string;
  phase?: string;
  status?: string;
  error?: string;
  config?: { stateSchema?: string };
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

export interface CheckpointStatus {
  status: string;
  phase: string | null;
  updatedAt: string;
  unitsDone: number;
  rows: number;
  bytes: number;
  objectsDone: number;
  tables: { table: string; unitsDone: number; rows: number; bytes: number }[];
}

export interface TaskStatus {
  task: string;
  dir: string;
  running: boolean;
  pid: number | null;
  status: string | null;
  phase: string | null;
  source: string | null;
  target: string | null;
  startedAt: string | null;
  lastEventAt: string | null;
  /** The last phase seen in the events and whether it is still open. */
  lastPhase: { phase: Phase; state: 'running' | 'done' | 'failed' } | null;
  tables: TableProgress[];
  progress: { rows: number; bytes: number; estRows: number; estBytes: number; rowsPerSec: number; bytesPerSec: number; etaSec: number | null } | null;
  warnings: number;
  retries: number;
  error: string | null;
  ended: { ok: boolean; durationMs: number; at: string } | null;
  checkpoint: CheckpointStatus | null;
  checkpointError?: string;
  /** Tables recopied whole because their earlier units came from a snapshot that was gone. */
  recopied: string[];
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
): Pick<TaskStatus,
  'lastPhase' | 'tables' | 'progress' | 'warnings' | 'retries' | 'error' | 'ended' | 'lastEventAt' | 'recopied'> {
  const recopied = new Set<string>();
  const tables = new Map<string, TableProgress>();
  const get = (t: string) => {
    let x = tables.get(t);
    if (!x) tables.set(t, (x = { table: t, units: null, unitsDone: 0, rows: 0, bytes: 0, estRows: null, estBytes: null, done: false }));
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
        t.unitsDone = 0;
        t.rows = 0;
        t.bytes = 0;
        t.done = false;
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
        t.rows = e.rows;
        t.bytes = e.bytes;
        if (t.units !== null) t.unitsDone = t.units;
        break;
      }
      case 'progress':
        progress = { rows: e.rows, bytes: e.bytes, estRows: e.estRows, estBytes: e.estBytes, rowsPerSec: e.rowsPerSec, bytesPerSec: e.bytesPerSec, etaSec: e.etaSec };
        break;
      case 'log':
        if (e.level === 'warn') warnings++;
        if (e.level === 'error') error = e.message;
        break;
      case 'retry':
        retries++;
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
  };
}

export async function checkpointStatus(targetUrl: string, task: string, schema = DEFAULT_STATE_SCHEMA): Promise<CheckpointStatus | null> {
  return withClient(resolveConnSpec(targetUrl), { label: 'target', role: 'status' }, async (c) => {
    if (!(await checkpointSchemaExists(c, schema))) return null;
    const t = await c.query<{ status: string; phase: string | null; updated_at: Date }>(`SELECT status, phase, updated_at FROM ${qualify(schema, 'task')} WHERE task_id = $1`, [task]);
    if (t.rows.length === 0) return null;
    const u = await c.query<{ table_name: string; n: string; rows: string; bytes: string }>(
      `SELECT table_name, count(*) AS n, sum(rows)::text AS rows, sum(bytes)::text AS bytes FROM ${qualify(schema, 'unit')} WHERE task_id = $1 GROUP BY table_name ORDER BY table_name`,
      [task],
    );
    const o = await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${qualify(schema, 'object')} WHERE task_id = $1`, [task]);
    const tables = u.rows.map((r) => ({ table: r.table_name, unitsDone: Number(r.n), rows: Number(r.rows), bytes: Number(r.bytes) }));
    return {
      status: t.rows[0].status,
      phase: t.rows[0].phase,
      updatedAt: new Date(t.rows[0].updated_at).toISOString(),
      unitsDone: tables.reduce((a, x) => a + x.unitsDone, 0),
      rows: tables.reduce((a, x) => a + x.rows, 0),
      bytes: tables.reduce((a, x) => a + x.bytes, 0),
      objectsDone: Number(o.rows[0].n),
      tables,
    };
  });
}

export async function readStatus(state: StateDir, opts: { target?: string; checkpoints?: boolean } = {}): Promise<TaskStatus> {
  let info: TaskJson | undefined;
  try {
    info = state.readJson<TaskJson>('task.json');
  } catch {
    info = undefined;
  }
  const pid = state.runningPid() ?? null;
  const ev = summariseEvents(withProgress(readEventsFile(state), readProgressFile(state)));
  const out: TaskStatus = {
    task: state.task,
    dir: state.dir,
    running: pid !== null,
    pid,
    status: info?.status ?? null,
    phase: info?.phase ?? null,
    source: info?.source ?? null,
    target: opts.target ?? info?.target ?? null,
    startedAt: info?.startedAt ?? null,
    ...ev,
    error: info?.error ?? ev.error,
    checkpoint: null,
  };
  if (out.status === 'running' && !out.running) out.status = 'interrupted';
  if (out.target && opts.checkpoints !== false) {
    try {
      out.checkpoint = await checkpointStatus(out.target, state.task, info?.config?.stateSchema);
    } catch (e) {
      out.checkpointError = errorMessage(e);
    }
  }
  return out;
}

const n = (x: number | null) => (x === null ? '?' : x.toLocaleString('en-US'));

export function renderStatus(s: TaskStatus): string {
  const L: string[] = [];
  L.push(`task ${s.task}: ${s.running ? `RUNNING (pid ${s.pid})` : (s.status ?? 'unknown').toUpperCase()}${s.phase ? `, phase ${s.phase}` : ''}`);
  if (s.source || s.target) L.push(`  ${s.source ?? '?'} → ${s.target ?? '?'}`);
  if (s.startedAt) L.push(`  started ${s.startedAt}${s.lastEventAt ? `, last event ${s.lastEventAt}` : ''}`);
  if (s.lastPhase) L.push(`  last phase: ${s.lastPhase.phase} (${s.lastPhase.state})`);
  if (s.progress) {
    const pct = s.progress.estRows > 0 ? ` (~${Math.min(100, (100 * s.progress.rows) / s.progress.estRows).toFixed(1)}% of the estimated rows)` : '';
    L.push(`  copied ${n(s.progress.rows)} rows${pct}, ${n(s.progress.rowsPerSec)} rows/s${s.progress.etaSec !== null ? `, eta ${Math.round(s.progress.etaSec)} s` : ''}`);
  }
  if (s.tables.length) {
    const done = s.tables.filter((t) => t.done).length;
    L.push(`  tables: ${done}/${s.tables.length} done`);
    for (const t of s.tables.filter((x) => !x.done)) {
      L.push(`    ${t.table}: ${t.unitsDone}/${t.units ?? '?'} units, ${n(t.rows)}${t.estRows !== null ? `/~${n(t.estRows)}` : ''} rows`);
    }
  }
  if (s.recopied.length) L.push(`  recopied whole (earlier units came from a lost snapshot): ${s.recopied.join(', ')}`);
  if (s.warnings) L.push(`  warnings: ${s.warnings}`);
  if (s.retries) L.push(`  retries: ${s.retries}`);
  if (s.ended) L.push(`  ended ${s.ended.at}: ${s.ended.ok ? 'ok' : 'failed'}`);
  if (s.error) L.push(`  error: ${s.error}`);
  if (s.checkpoint) {
    const c = s.checkpoint;
    L.push(`  target checkpoints: status ${c.status}, phase ${c.phase ?? '-'}, ${c.unitsDone} units / ${n(c.rows)} rows done in ${c.tables.length} tables, ${c.objectsDone} objects (updated ${c.updatedAt})`);
  } else if (s.checkpointError) {
    L.push(`  target checkpoints: not readable (${s.checkpointError})`);
  } else if (s.target) {
    L.push('  target checkpoints: none for this task');
  }
  return L.join('\n');
}

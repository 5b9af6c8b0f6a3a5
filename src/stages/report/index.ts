/**
 * The migration report: what ran, how long each phase and table took, what was created,
 * warnings, retries, the verification result and what to do next. Built from the event
 * stream (so a resumed or failed run reports the same way), written as report.json and
 * report.md in the task's state dir, and summarised on stdout.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describeConn, resolveConnSpec, toSafeUri } from '../../pg/connstring.js';
import type { EventBus, Phase, TimedEvent } from '../../core/events.js';
import type { StateDir } from '../../state/state-dir.js';
import { redact } from '../../core/redact.js';
import type { VerifyReport } from '../verify/types.js';
import { plural } from '../../core/plural.js';
import { fmtBytes } from '../../core/size.js';
import type { CheckpointTotals } from './checkpoints.js';
import {
  describeTotals,
  selectionLines,
  selectionOf,
  totalsFrom,
  type SelectionReport,
  type Totals,
} from './whole-task.js';

export { fmtBytes };

export interface EventCollector {
  /** Events seen so far, in order. */
  readonly events: TimedEvent[];
  /** Stop collecting. */
  stop(): void;
}

/** The event types buildReport reads; the others (progress, units, indexes…: several per table) are not kept. */
const REPORTED = new Set<TimedEvent['type']>([
  'task-start',
  'phase-start',
  'phase-end',
  'table-done',
  'object',
  'log',
  'retry',
  'task-end',
  'table-recopy',
  'copy-format',
]);

/**
 * Accumulate the events of `bus` (from now on) that the report reads, and the first and the
 * latest event whatever their type (the run's start and end times when it has no task-start/-end).
 */
export function collectEvents(bus: EventBus): EventCollector {
  const events: TimedEvent[] = [];
  let tailKept = true;
  const off = bus.on((e) => {
    if (!tailKept && events.length > 1) events.pop();
    events.push(e);
    tailKept = REPORTED.has(e.type);
  });
  return { events, stop: off };
}

/** Events of a task as recorded in its state dir (events.jsonl); unreadable lines are skipped. */
export function readEventsFile(state: StateDir): TimedEvent[] {
  const p = state.path('events.jsonl');
  if (!existsSync(p)) return [];
  const out: TimedEvent[] = [];
  for (const line of readFileSync(p, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as TimedEvent);
    } catch {
      /* a torn last line while the task writes */
    }
  }
  return out;
}

export interface NotMigrated {
  kind: string;
  name: string;
  reason: string;
}

export interface ReportInput {
  taskId: string;
  /** Connection strings (any form); only user@host:port/db and a password-less URI are kept. */
  source: string;
  target: string;
  events: TimedEvent[];
  verify?: VerifyReport | null;
  notMigrated?: (NotMigrated | string)[];
  /** Extra warnings not carried by events. */
  warnings?: string[];
  /** The run's error, when it failed. */
  error?: string;
  /** The task's checkpoints on the target (every run); null/absent: totals count this run only. */
  checkpoints?: CheckpointTotals | null;
  /** Why the checkpoints could not be read, when they could not. */
  checkpointNote?: string;
  /** The task as run (task.json config): its selection and mapping go into the report. */
  config?: Record<string, unknown>;
}

export interface PhaseReport {
  phase: Phase;
  start: string;
  end: string | null;
  durationMs: number | null;
  ok: boolean | null;
}

export interface TableReport {
  table: string;
  rows: number;
  bytes: number;
  durationMs: number;
  rowsPerSec: number;
  bytesPerSec: number;
  skippedUnits: number;
  /** Units done over every run, and planned, from the checkpoints. */
  unitsDone?: number;
  units?: number | null;
}

export interface Endpoint {
  uri: string;
  describe: string;
}

export interface Report {
  task: string;
  source: Endpoint;
  target: Endpoint;
  ok: boolean;
  status: 'done' | 'failed' | 'mismatch' | 'incomplete';
  error?: string;
  startedAt: string | null;
  endedAt: string | null;
  durationMs: number | null;
  phases: PhaseReport[];
  tables: TableReport[];
  /** The whole task over every run (from the checkpoints when readable). */
  totals: Totals;
  /** What this run did (its events). */
  thisRun: { tables: number; rows: number; bytes: number };
  checkpointNote?: string;
  selection: SelectionReport | null;
  objects: Record<string, { created: number; skipped: number; failed: number }>;
  /** Schema objects done over every run, by kind (checkpoints). */
  objectsDone: Record<string, number>;
  failedObjects: { kind: string; name: string; section: string }[];
  warnings: string[];
  notMigrated: NotMigrated[];
  retries: {
    count: number;
    items: { at: string; what: string; attempt: number; delayMs: number; error: string; sqlstate?: string }[];
  };
  verification: VerifyReport | null;
  next: string[];
  /** Tables emptied and copied again because their earlier units came from a snapshot that was gone. */
  recopiedTables: { table: string; discardedUnits: number; at: string }[];
  /** Tables copied as text although the run used binary COPY, with the column and type that decided it. */
  textTables: { table: string; column: string; type: string; reason: string }[];
}

function endpoint(text: string): Endpoint {
  // Already a description (user@host:port/db, as task-start events carry it): keep it.
  if (!/^postgres(ql)?:\/\//i.test(text.trim()) && !text.includes('=')) {
    const r = redact(text);
    return { uri: r, describe: r };
  }
  try {
    const spec = resolveConnSpec(text);
    return { uri: toSafeUri(spec), describe: describeConn(spec) };
  } catch {
    const r = redact(text);
    return { uri: r, describe: r };
  }
}

const ms = (a: string, b: string) => new Date(b).getTime() - new Date(a).getTime();

export function buildReport(input: ReportInput): Report {
  const ev = input.events;
  const phases: PhaseReport[] = [];
  const open = new Map<Phase, PhaseReport>();
  const tables = new Map<string, TableReport>();
  const objects: Report['objects'] = {};
  const failedObjects: Report['failedObjects'] = [];
  const warnings: string[] = [];
  const retries: Report['retries']['items'] = [];
  const recopiedTables: Report['recopiedTables'] = [];
  const textTables = new Map<string, Report['textTables'][number]>();
  let end: TimedEvent | undefined;
  for (const e of ev) {
    switch (e.type) {
      case 'phase-start': {
        const p: PhaseReport = { phase: e.phase, start: e.at, end: null, durationMs: null, ok: null };
        phases.push(p);
        open.set(e.phase, p);
        break;
      }
      case 'phase-end': {
        const p = open.get(e.phase);
        if (p) {
          p.end = e.at;
          p.durationMs = e.durationMs ?? ms(p.start, e.at);
          p.ok = e.ok;
          open.delete(e.phase);
        } else {
          const start = new Date(new Date(e.at).getTime() - e.durationMs).toISOString();
          phases.push({ phase: e.phase, start, end: e.at, durationMs: e.durationMs, ok: e.ok });
        }
        break;
      }
      case 'table-done': {
        const sec = Math.max(e.durationMs, 1) / 1000;
        tables.set(e.table, {
          table: e.table,
          rows: e.rows,
          bytes: e.bytes,
          durationMs: e.durationMs,
          rowsPerSec: Math.round(e.rows / sec),
          bytesPerSec: Math.round(e.bytes / sec),
          skippedUnits: e.skippedUnits,
        });
        break;
      }
      case 'object': {
        const o = (objects[e.kind] ??= { created: 0, skipped: 0, failed: 0 });
        o[e.action]++;
        if (e.action === 'failed') failedObjects.push({ kind: e.kind, name: e.name, section: e.section });
        break;
      }
      case 'log':
        if (e.level === 'warn' || e.level === 'error') warnings.push(e.message);
        break;
      case 'retry':
        retries.push({
          at: e.at,
          what: e.what,
          attempt: e.attempt,
          delayMs: e.delayMs,
          error: e.error,
          ...(e.sqlstate ? { sqlstate: e.sqlstate } : {}),
        });
        break;
      case 'task-end':
        end = e;
        break;
      case 'table-recopy':
        recopiedTables.push({ table: e.table, discardedUnits: e.discardedUnits, at: e.at });
        break;
      case 'copy-format':
        textTables.set(e.table, { table: e.table, column: e.column, type: e.columnType, reason: e.reason });
        break;
      default:
        break;
    }
  }
  for (const w of input.warnings ?? []) if (!warnings.includes(w)) warnings.push(w);
  const notMigrated = (input.notMigrated ?? []).map((n) =>
    typeof n === 'string' ? { kind: 'object', name: n, reason: 'not migrated' } : n,
  );
  const startEv = ev.find((e) => e.type === 'task-start') ?? ev[0];
  const startedAt = startEv?.at ?? null;
  const endedAt = end?.at ?? (ev.length ? ev[ev.length - 1].at : null);
  const error = input.error ?? (end && end.type === 'task-end' ? end.error : undefined);
  const verification = input.verify ?? null;
  const failed = error !== undefined || (end !== undefined && end.type === 'task-end' && !end.ok && !verification);
  const status: Report['status'] = failed
    ? 'failed'
    : verification && !verification.ok
      ? 'mismatch'
      : end
        ? 'done'
        : 'incomplete';
  const runTables = [...tables.values()];
  const thisRun = {
    tables: runTables.length,
    rows: runTables.reduce((a, t) => a + t.rows, 0),
    bytes: runTables.reduce((a, t) => a + t.bytes, 0),
  };
  const tableList = mergeCheckpointTables(tables, input.checkpoints);
  const src = endpoint(input.source);
  const tgt = endpoint(input.target);
  return {
    task: input.taskId,
    source: src,
    target: tgt,
    ok: status === 'done',
    status,
    ...(error ? { error: redact(error) } : {}),
    startedAt,
    endedAt,
    durationMs: end && end.type === 'task-end' ? end.durationMs : startedAt && endedAt ? ms(startedAt, endedAt) : null,
    phases,
    tables: tableList,
    totals: totalsFrom(input.checkpoints, thisRun),
    thisRun,
    ...(input.checkpointNote ? { checkpointNote: redact(input.checkpointNote) } : {}),
    selection: selectionOf(input.config),
    objects,
    objectsDone: input.checkpoints?.objects ?? {},
    failedObjects,
    warnings,
    notMigrated,
    retries: { count: retries.length, items: retries.slice(0, 200) },
    verification,
    next: nextSteps(input.taskId, src, tgt, status),
    recopiedTables,
    textTables: [...textTables.values()].sort((a, b) => a.table.localeCompare(b.table)),
  };
}

/** This run's tables, completed by those done in earlier runs, with units from the checkpoints. */
function mergeCheckpointTables(run: Map<string, TableReport>, cp: CheckpointTotals | null | undefined): TableReport[] {
  const out = new Map(run);
  for (const t of cp?.tables ?? []) {
    const r = out.get(t.table) ?? {
      table: t.table,
      rows: t.rows,
      bytes: t.bytes,
      durationMs: 0,
      rowsPerSec: 0,
      bytesPerSec: 0,
      skippedUnits: t.unitsDone,
    };
    out.set(t.table, { ...r, rows: t.rows, bytes: t.bytes, unitsDone: t.unitsDone, units: t.units });
  }
  return [...out.values()].sort((a, b) => a.table.localeCompare(b.table));
}

function nextSteps(task: string, src: Endpoint, tgt: Endpoint, status: Report['status']): string[] {
  if (status === 'failed' || status === 'incomplete') {
    return [
      'Fix the cause shown above and rerun the same command: finished tables and objects are skipped, the copy resumes where it stopped.',
      `Watch progress with: pgferry status ${task}`,
    ];
  }
  const steps: string[] = [];
  if (status === 'mismatch')
    steps.push(
      `Investigate the differences listed under "Verification" (rerun: pgferry verify --mode hash --source … --target …) before switching.`,
    );
  steps.push(
    `Stop writes to the source (${src.describe}): stop the applications or revoke their write privileges, so nothing is lost after the copy.`,
    `Make sure the task is stopped (no pgferry process for task "${task}" is running) before switching.`,
    `Run a final check on the quiet source: pgferry verify --mode hash --source … --target … (exit code 0 means equal).`,
    `Switch workloads to the target (${tgt.describe}): point connection strings / DNS / poolers at it.`,
    `Run: pgferry finish ${task} --target ${tgt.uri} --source ${src.uri}  — removes the pgferry checkpoint schema from the target and prints the SQL to remove the migration accounts on both sides (--drop-accounts runs it).`,
    'Remove the migration accounts (and their pg_hba.conf entries / passwords) on both sides once you no longer need them.',
  );
  return steps;
}

export function writeReport(state: StateDir, report: Report): { json: string; markdown: string } {
  state.writeJson('report.json', report);
  state.writeText('report.md', renderMarkdown(report));
  return { json: state.path('report.json'), markdown: state.path('report.md') };
}

export function fmtDuration(msv: number | null): string {
  if (msv === null || !Number.isFinite(msv)) return '-';
  if (msv < 1000) return `${Math.round(msv)} ms`;
  const s = msv / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - m * 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

const num = (n: number | null) => (n === null ? '-' : n.toLocaleString('en-US'));

function verificationLines(v: VerifyReport, md: boolean): string[] {
  const lines: string[] = [];
  const badTables = v.tables.filter((t) => !t.ok);
  const badSeq = v.sequences.filter((s) => !s.ok);
  const badObj = v.objects.filter((o) => !o.ok);
  lines.push(
    `${v.ok ? 'OK' : 'DIFFERENCES FOUND'} (${v.mode} mode, ${plural(v.tables.length, 'table')}, ${plural(v.sequences.length, 'sequence')}, ${plural(v.objects.length, 'object kind')}, ${fmtDuration(v.durationMs)})`,
  );
  const b = md ? '- ' : '  ';
  for (const t of badTables) {
    lines.push(
      `${b}table ${t.key}${t.target !== t.key ? ` → ${t.target}` : ''}: ${t.error ?? `source ${num(t.sourceRows)} rows, target ${num(t.targetRows)} rows`}`,
    );
    for (const m of t.mismatches.slice(0, 10)) {
      lines.push(`${md ? '  - ' : '      '}${m.range}: source ${num(m.sourceCount)}, target ${num(m.targetCount)}`);
      for (const x of m.examples)
        lines.push(
          `${md ? '    - ' : '        '}${x.side === 'source-only' ? 'only on source' : 'only on target'}: ${x.row}`,
        );
    }
    if (t.mismatches.length > 10) lines.push(`${md ? '  - ' : '      '}… ${t.mismatches.length - 10} more ranges`);
  }
  for (const s of badSeq) {
    const f = (x: { lastValue: string; isCalled: boolean } | null) =>
      x ? `${x.lastValue}${x.isCalled ? '' : ' (is_called=false)'}` : 'missing';
    lines.push(
      `${b}sequence ${s.key}${s.target !== s.key ? ` → ${s.target}` : ''}: source ${f(s.source)}, target ${f(s.targetState)}`,
    );
  }
  for (const o of badObj) {
    const extra = [
      o.missing.length ? `missing on target: ${o.missing.slice(0, 10).join(', ')}` : '',
      o.extra.length ? `only on target: ${o.extra.slice(0, 10).join(', ')}` : '',
    ]
      .filter(Boolean)
      .join('; ');
    lines.push(`${b}${o.kind}: source ${o.sourceCount}, target ${o.targetCount}${extra ? ` (${extra})` : ''}`);
  }
  return lines;
}

/** Markdown sections on recopied tables and tables copied as text (nothing when there are none). */
function copyDetailLines(r: Report): string[] {
  const L: string[] = [];
  if (r.recopiedTables?.length) {
    L.push(
      '',
      '## Recopied tables',
      '',
      'Their earlier units came from a source snapshot that was gone; they were emptied and copied again whole:',
      '',
    );
    for (const t of r.recopiedTables) L.push(`- ${t.table} (${t.discardedUnits} earlier units discarded, ${t.at})`);
  }
  if (r.textTables?.length) {
    L.push('', '## Copy format', '', 'Copied as text instead of binary:', '');
    for (const t of r.textTables) L.push(`- ${t.table}: ${t.reason}`);
  }
  return L;
}

export function renderMarkdown(r: Report): string {
  const L: string[] = [];
  L.push(`# pgferry report: ${r.task}`, '');
  L.push(`- Status: **${r.status}**${r.error ? ` — ${r.error}` : ''}`);
  L.push(`- Source: \`${r.source.uri}\``, `- Target: \`${r.target.uri}\``);
  L.push(
    `- Started: ${r.startedAt ?? '-'}`,
    `- Ended: ${r.endedAt ?? '-'}`,
    `- Duration: ${fmtDuration(r.durationMs)}`,
    '',
  );
  L.push('## Phases', '', '| Phase | Start | End | Duration | Result |', '|---|---|---|---|---|');
  for (const p of r.phases)
    L.push(
      `| ${p.phase} | ${p.start} | ${p.end ?? '-'} | ${fmtDuration(p.durationMs)} | ${p.ok === null ? 'running/interrupted' : p.ok ? 'ok' : 'failed'} |`,
    );
  L.push('', '## Selection', '');
  const sel = selectionLines(r.selection);
  L.push(...(sel.length ? sel.map((x) => `- ${x}`) : ['the whole database']));
  L.push('', '## Tables', '', ...totalsLines(r), '');
  if (r.tables.length) {
    L.push(
      '| Table | Rows | Bytes | Units done | Duration (this run) | Rows/s | Bytes/s |',
      '|---|---:|---:|---:|---:|---:|---:|',
    );
    for (const t of r.tables) {
      const units = t.unitsDone !== undefined ? `${t.unitsDone}${t.units ? `/${t.units}` : ''}` : '-';
      const dur = t.durationMs ? fmtDuration(t.durationMs) : 'earlier run';
      L.push(
        `| ${t.table} | ${num(t.rows)} | ${fmtBytes(t.bytes)} | ${units} | ${dur} | ${num(t.rowsPerSec)} | ${fmtBytes(t.bytesPerSec)}/s |`,
      );
    }
  }
  L.push(...copyDetailLines(r));
  L.push('', '## Objects', '');
  const kinds = [...new Set([...Object.keys(r.objects), ...Object.keys(r.objectsDone)])].sort();
  if (kinds.length) {
    L.push('| Kind | Done (all runs) | Created (this run) | Skipped | Failed |', '|---|---:|---:|---:|---:|');
    for (const k of kinds) {
      const o = r.objects[k] ?? { created: 0, skipped: 0, failed: 0 };
      L.push(`| ${k} | ${r.objectsDone[k] ?? '-'} | ${o.created} | ${o.skipped} | ${o.failed} |`);
    }
  } else L.push('none recorded');
  for (const f of r.failedObjects) L.push(`- failed: ${f.kind} ${f.name} (${f.section})`);
  if (r.notMigrated.length) {
    L.push('', '## Not migrated', '');
    for (const n of r.notMigrated) L.push(`- ${n.kind} ${n.name}: ${n.reason}`);
  }
  L.push('', '## Warnings', '');
  if (r.warnings.length) for (const w of r.warnings) L.push(`- ${w}`);
  else L.push('none');
  L.push('', '## Retries', '');
  if (r.retries.count) {
    L.push(`${plural(r.retries.count, 'transient failure')} retried:`, '');
    for (const x of r.retries.items)
      L.push(`- ${x.at} ${x.what} attempt ${x.attempt}${x.sqlstate ? ` (SQLSTATE ${x.sqlstate})` : ''}: ${x.error}`);
  } else L.push('none');
  L.push('', '## Verification', '');
  if (r.verification) L.push(...verificationLines(r.verification, true));
  else L.push('not run');
  L.push('', '## What to do next', '');
  r.next.forEach((s, i) => L.push(`${i + 1}. ${s}`));
  return L.join('\n') + '\n';
}

/** "data: 3 tables, 1,200 rows, 1.2 MB in 4 units (whole task; this run: 1 table, 400 rows, 0.4 MB)" */
function totalsLines(r: Report): string[] {
  const whole = `data: ${describeTotals(r.totals)}`;
  const run = `${plural(r.thisRun.tables, 'table')}, ${plural(r.thisRun.rows, 'row')}, ${fmtBytes(r.thisRun.bytes)}`;
  if (r.totals.from === 'this run') {
    return [
      `${whole} (this run only: the target's checkpoints were not read${r.checkpointNote ? ` — ${r.checkpointNote}` : ''})`,
    ];
  }
  const objects = r.totals.objects !== null ? `, ${plural(r.totals.objects, 'schema object')} done` : '';
  return [`${whole}${objects} (whole task, every run; this run: ${run})`];
}

/** A few lines for stdout at the end of a run. */
export function renderSummary(r: Report, paths?: { markdown?: string }): string {
  const L: string[] = [];
  L.push(
    `pgferry task ${r.task}: ${r.status.toUpperCase()}${r.error ? ` — ${r.error}` : ''}  (${fmtDuration(r.durationMs)})`,
  );
  L.push(`  ${r.source.describe} → ${r.target.describe}`);
  if (r.phases.length)
    L.push(
      `  phases: ${r.phases.map((p) => `${p.phase} ${fmtDuration(p.durationMs)}${p.ok === false ? ' (failed)' : ''}`).join(', ')}`,
    );
  L.push(...totalsLines(r).map((x) => `  ${x}`));
  const sel = selectionLines(r.selection);
  if (sel.length) L.push(`  selection: ${sel.join('; ')}`);
  const done = Object.entries(r.objectsDone)
    .sort()
    .map(([k, v]) => `${v} ${k}`);
  if (done.length) L.push(`  objects done (all runs): ${done.join(', ')}`);
  const created = Object.entries(r.objects)
    .filter(([, v]) => v.created > 0)
    .sort()
    .map(([k, v]) => `${v.created} ${k}`);
  if (created.length) L.push(`  objects created: ${created.join(', ')}`);
  const failedObjs = Object.values(r.objects).reduce((a, v) => a + v.failed, 0);
  if (failedObjs) L.push(`  objects failed: ${failedObjs}`);
  if (r.warnings.length)
    L.push(
      `  ${plural(r.warnings.length, 'warning')}${r.warnings.length <= 3 ? ' — ' + r.warnings.join(' | ') : ' (see report)'}`,
    );
  if (r.notMigrated.length) L.push(`  not migrated: ${plural(r.notMigrated.length, 'object')} (see report)`);
  if (r.retries.count) L.push(`  retries: ${r.retries.count}`);
  if (r.recopiedTables?.length) {
    L.push(`  recopied whole (earlier units from a lost snapshot): ${r.recopiedTables.map((t) => t.table).join(', ')}`);
  }
  if (r.textTables?.length) L.push(`  copied as text, not binary: ${r.textTables.length} table(s) (see report)`);
  if (r.verification) {
    const v = verificationLines(r.verification, false);
    L.push(`  verification: ${v[0]}`, ...v.slice(1, 21).map((x) => '  ' + x));
  }
  if (paths?.markdown) L.push(`  report: ${paths.markdown}`);
  L.push('', 'Next:');
  r.next.forEach((s, i) => L.push(`  ${i + 1}. ${s}`));
  return L.join('\n');
}

export { renderVerify } from './verify-text.js';

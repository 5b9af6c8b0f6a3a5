/**
 * Renders the event stream: live bars on a TTY, one JSON event per line with --json, and
 * plain log lines otherwise (CI logs, pipes).
 */
import type { EventBus, TimedEvent } from '../task/events.js';
import { redact } from '../util/redact.js';
import { fmtBytes } from '../report/index.js';

export type ProgressMode = 'tty' | 'json' | 'plain' | 'quiet';

export function progressMode(json: boolean | undefined, stream: NodeJS.WriteStream = process.stderr): ProgressMode {
  if (json) return 'json';
  return stream.isTTY ? 'tty' : 'plain';
}

export function fmtDuration(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${Math.round(s % 60).toString().padStart(2, '0')}s`;
}

function bar(frac: number, width = 24): string {
  const f = Math.max(0, Math.min(1, frac));
  const full = Math.round(f * width);
  return '█'.repeat(full) + '░'.repeat(width - full);
}

/** Attach a renderer; returns a function that finishes the display. */
export function attachProgress(bus: EventBus, mode: ProgressMode): () => void {
  if (mode === 'quiet') return () => {};
  if (mode === 'json') {
    const off = bus.on((e) => process.stdout.write(redact(JSON.stringify(e)) + '\n'));
    return off;
  }
  const err = process.stderr;
  let drawn = 0;
  let last: TimedEvent | undefined;
  const clear = () => {
    if (mode === 'tty' && drawn > 0) {
      err.write(`\x1b[${drawn}A\x1b[0J`);
      drawn = 0;
    }
  };
  const line = (text: string) => {
    clear();
    err.write(redact(text) + '\n');
    if (last) draw(last);
  };
  const draw = (p: TimedEvent) => {
    if (mode !== 'tty' || p.type !== 'progress') return;
    const rows: string[] = [];
    for (const a of p.active.slice(0, 8)) {
      // row counts (estimated from reltuples) are comparable on both sides; COPY bytes and heap size are not
      const frac = a.estRows > 0 ? a.rows / a.estRows : 0;
      rows.push(`  ${bar(frac, 20)} ${a.table.slice(0, 40).padEnd(40)} ${fmtBytes(a.bytes).padStart(9)}  ${a.rows.toLocaleString('en-US')} rows`);
    }
    const frac = p.estRows > 0 ? p.rows / p.estRows : 0;
    const eta = p.etaSec !== null ? `ETA ${fmtDuration(p.etaSec * 1000)}` : '';
    rows.push(`  ${bar(frac)} total ${p.rows.toLocaleString('en-US')} / ~${p.estRows.toLocaleString('en-US')} rows  ${fmtBytes(p.bytes)}  ${p.rowsPerSec.toLocaleString('en-US')} rows/s  ${fmtBytes(p.bytesPerSec)}/s  ${eta}`);
    err.write(rows.join('\n') + '\n');
    drawn = rows.length;
  };
  const off = bus.on((e) => {
    switch (e.type) {
      case 'progress':
        last = e;
        clear();
        draw(e);
        return;
      case 'phase-start':
        line(`▶ ${e.phase}`);
        return;
      case 'phase-end':
        if (e.phase === 'data') last = undefined;
        line(`${e.ok ? '✔' : '✖'} ${e.phase} (${fmtDuration(e.durationMs)})`);
        return;
      case 'log':
        line(`${e.level === 'warn' ? 'warning: ' : e.level === 'error' ? 'error: ' : ''}${e.message}`);
        return;
      case 'table-done':
        line(`  ✔ ${e.table}: ${e.rows.toLocaleString('en-US')} rows, ${fmtBytes(e.bytes)} in ${fmtDuration(e.durationMs)}${e.skippedUnits ? ` (${e.skippedUnits} units already done)` : ''}`);
        return;
      case 'retry':
        line(`  ↻ retry ${e.attempt} of ${e.what} in ${fmtDuration(e.delayMs)}: ${e.error}`);
        return;
      case 'snapshot':
        line(e.fresh
          ? `  resuming: the earlier snapshot is gone; the remaining units are copied from a new snapshot ${e.snapshot}`
          : `  snapshot ${e.snapshot}`);
        return;
      case 'throttle':
        line(`  throttle: rows/s ${e.maxRowsPerSec ?? 'unlimited'}, bytes/s ${e.maxBytesPerSec ?? 'unlimited'}, jobs ${e.jobs}`);
        return;
      default:
        return;
    }
  });
  return () => {
    off();
    clear();
  };
}

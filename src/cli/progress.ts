/**
 * Renders the event stream: live bars on a TTY, one JSON event per line with --json, and
 * plain log lines otherwise (CI logs, pipes).
 */
import type { EventBus, TimedEvent } from '../core/events.js';
import { redact } from '../core/redact.js';
import { fmtBytes } from '../core/size.js';
import { plural } from '../core/plural.js';
import { describeLimits } from './commands/throttle.js';
import { fit, LiveArea, wrapWords } from './live-area.js';
import { printable } from '../core/printable.js';

export type ProgressMode = 'tty' | 'json' | 'plain' | 'quiet';

export function progressMode(json: boolean | undefined, stream: NodeJS.WriteStream = process.stderr): ProgressMode {
  if (json) return 'json';
  return stream.isTTY ? 'tty' : 'plain';
}

export function fmtDuration(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${Math.round(s % 60)
    .toString()
    .padStart(2, '0')}s`;
}

export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  rows?: number;
  write(text: string): unknown;
}

const REDRAW_MS = 100;

/** Attach a renderer; returns a function that finishes the display. */
export function attachProgress(bus: EventBus, mode: ProgressMode, stream: ProgressStream = process.stderr): () => void {
  if (mode === 'quiet') return () => {};
  if (mode === 'json') {
    const off = bus.on((e) => process.stdout.write(redact(JSON.stringify(e)) + '\n'));
    return off;
  }
  const tty = mode === 'tty';
  const width = () => stream.columns || 80;
  const area = new LiveArea();
  let drawn = 0;
  let timer: NodeJS.Timeout | undefined;
  let lastDraw = 0;
  const clear = () => {
    if (drawn > 0) stream.write(`\x1b[${drawn}A\x1b[0J`);
    drawn = 0;
  };
  const draw = () => {
    timer = undefined;
    lastDraw = Date.now();
    clear();
    const rows = area.lines(width(), stream.rows || 24);
    if (rows.length) stream.write(rows.map(printable).join('\n') + '\n');
    drawn = rows.length;
  };
  const schedule = () => {
    if (!tty || timer) return;
    const wait = Math.max(0, REDRAW_MS - (Date.now() - lastDraw));
    timer = setTimeout(draw, wait);
    timer.unref?.();
  };
  /** A permanent line above the live area: cut to the width, or (messages) broken at spaces. */
  const line = (text: string, wrap = false) => {
    const shown = printable(redact(text));
    if (!tty) return void stream.write(shown + '\n');
    clear();
    const w = width() - 1;
    stream.write((wrap ? wrapWords(shown, w) : [fit(shown, w)]).join('\n') + '\n');
    draw();
  };
  const off = bus.on((e) => {
    const changed = tty && area.apply(e);
    const text = permanentLine(e);
    if (text !== undefined) line(text, e.type === 'log');
    else if (changed) schedule();
  });
  return () => {
    off();
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (tty) clear();
  };
}

/** The lines that stay: phases, finished tables, warnings, retries, snapshots, throttle changes. */
function permanentLine(e: TimedEvent): string | undefined {
  switch (e.type) {
    case 'phase-start':
      return `▶ ${e.phase}`;
    case 'phase-end':
      return `${e.ok ? '✔' : '✖'} ${e.phase} (${fmtDuration(e.durationMs)})`;
    case 'log':
      return `${e.level === 'warn' ? 'warning: ' : e.level === 'error' ? 'error: ' : ''}${e.message}`;
    case 'table-done': {
      const resumed = e.skippedUnits ? ` (${plural(e.skippedUnits, 'unit')} already done)` : '';
      const took = fmtDuration(e.durationMs);
      return `  ✔ ${e.table}: ${plural(e.rows, 'row')}, ${fmtBytes(e.bytes)} in ${took}${resumed}`;
    }
    case 'retry':
      return `  ↻ retry ${e.attempt} of ${e.what} in ${fmtDuration(e.delayMs)}: ${e.error}`;
    case 'snapshot':
      return e.fresh
        ? `  resuming: the earlier snapshot is gone; the remaining units are copied from a new snapshot ${e.snapshot}`
        : `  snapshot ${e.snapshot}`;
    case 'throttle': {
      const { maxRowsPerSec, maxBytesPerSec, jobs } = e;
      return `  throttle: ${describeLimits({ maxRowsPerSec, maxBytesPerSec, jobs })}`;
    }
    default:
      return undefined;
  }
}

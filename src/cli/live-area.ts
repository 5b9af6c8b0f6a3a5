/**
 * The live part of the TTY progress display: the tables being copied (finished ones drop out),
 * the index builds running, the post-data step, and a total line. Every line fits the terminal
 * width (a wrapped line would leave stale rows behind when the area is redrawn) and the area
 * never grows beyond the terminal's height.
 */
import type { Phase, TimedEvent } from '../core/events.js';
import { fmtBytes } from '../core/size.js';
import { plural } from '../core/plural.js';

type Progress = Extract<TimedEvent, { type: 'progress' }>;

/** Cut a line to `width` columns (one column per code point), marking the cut with "…". */
export function fit(text: string, width: number): string {
  const chars = [...text];
  if (chars.length <= width) return text;
  return chars.slice(0, Math.max(0, width - 1)).join('') + '…';
}

/** Break a message into lines of at most `width` columns at spaces (continuations indented). */
export function wrapWords(text: string, width: number, indent = '    '): string[] {
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let cur = '';
    for (const word of para.split(' ')) {
      const next = cur ? `${cur} ${word}` : word;
      if ([...next].length <= width || !cur) cur = next;
      else {
        out.push(cur);
        cur = indent + word;
      }
    }
    out.push(cur);
  }
  return out.map((l) => fit(l, width));
}

function bar(frac: number, width: number): string {
  const f = Math.max(0, Math.min(1, frac));
  const full = Math.round(f * width);
  return '█'.repeat(full) + '░'.repeat(width - full);
}

const pct = (a: number, b: number) => (b > 0 ? `${Math.min(100, Math.floor((100 * a) / b))}%` : '');
const secs = (ms: number) =>
  ms < 60_000 ? `${(ms / 1000).toFixed(0)}s` : `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;

export class LiveArea {
  private progress: Progress | undefined;
  private finished = new Set<string>();
  private indexes = new Map<string, { table: string; name: string; since: number }>();
  private phase: Phase | undefined;
  private post = { created: 0, failed: 0, last: '' };

  /** Take an event into account; true when the area changed. */
  apply(e: TimedEvent): boolean {
    switch (e.type) {
      case 'progress':
        this.progress = e;
        return true;
      case 'table-done':
        this.finished.add(e.table);
        return true;
      case 'index-start':
        this.indexes.set(`${e.table}\u0000${e.name}`, { table: e.table, name: e.name, since: Date.parse(e.at) });
        return true;
      case 'index-done':
        this.indexes.delete(`${e.table}\u0000${e.name}`);
        return true;
      case 'phase-start':
        this.phase = e.phase;
        return true;
      case 'phase-end':
        if (e.phase === 'data') {
          this.progress = undefined;
          this.indexes.clear();
        }
        this.phase = undefined;
        return true;
      case 'object':
        if (this.phase !== 'post-data') return false;
        if (e.action === 'failed') this.post.failed++;
        else if (e.action === 'created') this.post.created++;
        this.post.last = `${e.kind} ${e.name}`;
        return true;
      default:
        return false;
    }
  }

  private tableLines(width: number): string[] {
    const p = this.progress;
    if (!p) return [];
    const nameW = Math.max(8, width - 2 - 16 - 1 - 1 - 13 - 1 - 4 - 1 - 9);
    return p.active
      .filter((a) => !this.finished.has(a.table))
      .map((a) => {
        const frac = a.estRows > 0 ? a.rows / a.estRows : 0;
        const name = fit(a.table, nameW).padEnd(nameW);
        const rows = plural(a.rows, 'row').padStart(13);
        const share = pct(a.rows, a.estRows).padStart(4);
        return `  ${bar(frac, 16)} ${name} ${rows} ${share} ${fmtBytes(a.bytes).padStart(9)}`;
      });
  }

  private indexLines(now: number): string[] {
    return [...this.indexes.values()].map((i) => `  building index ${i.name} on ${i.table} (${secs(now - i.since)})`);
  }

  private totalLine(): string | undefined {
    const p = this.progress;
    if (!p) return undefined;
    const eta = p.etaSec !== null ? `  ETA ${secs(p.etaSec * 1000)}` : '';
    const rate = `${p.rowsPerSec.toLocaleString('en-US')} rows/s, ${fmtBytes(p.bytesPerSec)}/s`;
    const of = p.estRows > 0 ? ` of ~${p.estRows.toLocaleString('en-US')}` : '';
    const frac = p.estRows > 0 ? p.rows / p.estRows : 0;
    return `  ${bar(frac, 20)} ${plural(p.rows, 'row')}${of}, ${fmtBytes(p.bytes)}  ${rate}${eta}`;
  }

  /** The area's lines for a terminal of `width` × `height`, each shorter than the width. */
  lines(width: number, height: number, now = Date.now()): string[] {
    const w = Math.max(20, width - 1);
    const max = Math.max(1, height - 2);
    const body = [...this.tableLines(w), ...this.indexLines(now)];
    if (this.phase === 'post-data' && (this.post.created || this.post.failed || this.post.last)) {
      const failed = this.post.failed ? `, ${this.post.failed} failed` : '';
      body.push(`  post-data: ${plural(this.post.created, 'object')} created${failed}; last: ${this.post.last}`);
    }
    const total = this.totalLine();
    const room = total ? max - 1 : max;
    const shown = body.length > room ? [...body.slice(0, room - 1), `  … and ${body.length - room + 1} more`] : body;
    return [...shown, ...(total ? [total] : [])].map((l) => fit(l, w));
  }
}

/**
 * Progress of the data copy: rows and bytes done (earlier runs included) plus those of units
 * running now, rates over the last ~5 s of samples, and the ETA from the estimated row count.
 */
import type { FerryEvent } from '../../../core/events.js';

export interface Sample {
  t: number;
  rows: number;
  bytes: number;
}

export interface Rates {
  rowsPerSec: number;
  bytesPerSec: number;
  etaSec: number | null;
}

/** What progress reads of a table being copied (TableRun has it). */
export interface ProgressTable {
  table: { key: string };
  rows: number;
  bytes: number;
  liveRows: number;
  liveBytes: number;
  size?: { bytes: number; estRows: number };
}

/** Rates from the oldest sample to `cur`, and the seconds left for the rows still to copy. */
export function rates(first: Sample, cur: Sample, estRows: number): Rates {
  const dt = (cur.t - first.t) / 1000;
  const rowsPerSec = dt > 0 ? (cur.rows - first.rows) / dt : 0;
  const bytesPerSec = dt > 0 ? (cur.bytes - first.bytes) / dt : 0;
  const remaining = Math.max(0, estRows - cur.rows);
  return {
    rowsPerSec: Math.round(rowsPerSec),
    bytesPerSec: Math.round(bytesPerSec),
    etaSec: rowsPerSec > 0 && estRows > 0 ? Math.round(remaining / rowsPerSec) : null,
  };
}

export class Progress {
  /** Rows and bytes of the units done (earlier runs included). */
  rows = 0;
  bytes = 0;
  /** Tables with units being copied now. */
  readonly active = new Set<ProgressTable>();
  private samples: Sample[] = [];

  constructor(
    readonly estRows: number,
    readonly estBytes: number,
    private windowMs = 5000,
  ) {}

  add(rows: number, bytes: number): void {
    this.rows += rows;
    this.bytes += bytes;
  }

  /** Done plus in flight. */
  live(): { rows: number; bytes: number } {
    let rows = this.rows;
    let bytes = this.bytes;
    for (const r of this.active) {
      rows += r.liveRows;
      bytes += r.liveBytes;
    }
    return { rows, bytes };
  }

  /** Take a sample at `now` and describe the progress as an event. */
  event(now: number): FerryEvent {
    const cur = { t: now, ...this.live() };
    this.samples.push(cur);
    while (this.samples.length > 2 && now - this.samples[0].t > this.windowMs) this.samples.shift();
    return {
      type: 'progress',
      rows: cur.rows,
      bytes: cur.bytes,
      estRows: this.estRows,
      estBytes: this.estBytes,
      ...rates(this.samples[0], cur, this.estRows),
      active: [...this.active].map((r) => ({
        table: r.table.key,
        bytes: r.bytes + r.liveBytes,
        estBytes: r.size?.bytes ?? 0,
        rows: r.rows + r.liveRows,
        estRows: r.size?.estRows ?? 0,
      })),
    };
  }
}

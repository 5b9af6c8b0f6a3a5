/**
 * Live controls of a data copy: rate limits over all workers, the number of copy workers, and a
 * pause (no new unit starts while paused; units running go on). The engine reads them and
 * listens for changes; adapters (src/stages/data/copy/control-file.ts: control.json) change them.
 */

export interface ControlValues {
  maxRowsPerSec: number | null;
  maxBytesPerSec: number | null;
  jobs: number;
  paused: boolean;
}

/** A change: an absent field keeps its value; a rate ≤ 0 or null means unlimited. */
export interface ControlChange {
  maxRowsPerSec?: number | null;
  maxBytesPerSec?: number | null;
  jobs?: number;
  paused?: boolean;
}

export type ControlListener = (v: Readonly<ControlValues>) => void;

/** Copy workers a change may ask for. */
export const MAX_JOBS = 64;

const rate = (r: number | null | undefined, cur: number | null): number | null =>
  r === undefined ? cur : r !== null && r > 0 ? r : null;

export class Controls {
  private v: ControlValues;
  private listeners = new Set<ControlListener>();

  constructor(initial: { maxRowsPerSec?: number | null; maxBytesPerSec?: number | null; jobs: number }) {
    this.v = {
      maxRowsPerSec: rate(initial.maxRowsPerSec ?? null, null),
      maxBytesPerSec: rate(initial.maxBytesPerSec ?? null, null),
      jobs: Math.max(1, initial.jobs),
      paused: false,
    };
  }

  get values(): Readonly<ControlValues> {
    return this.v;
  }

  get jobs(): number {
    return this.v.jobs;
  }

  get paused(): boolean {
    return this.v.paused;
  }

  /** Apply a change; listeners hear of it when a value changed. Jobs outside 1..64 are ignored. */
  set(c: ControlChange): boolean {
    const j = c.jobs;
    const next: ControlValues = {
      maxRowsPerSec: rate(c.maxRowsPerSec, this.v.maxRowsPerSec),
      maxBytesPerSec: rate(c.maxBytesPerSec, this.v.maxBytesPerSec),
      jobs: j !== undefined && Number.isInteger(j) && j > 0 ? Math.min(j, MAX_JOBS) : this.v.jobs,
      paused: typeof c.paused === 'boolean' ? c.paused : this.v.paused,
    };
    const changed = (Object.keys(next) as (keyof ControlValues)[]).some((k) => next[k] !== this.v[k]);
    if (!changed) return false;
    this.v = next;
    for (const l of [...this.listeners]) l(next);
    return true;
  }

  onChange(fn: ControlListener): () => void {
    this.listeners.add(fn);
    return () => {
      this.listeners.delete(fn);
    };
  }
}

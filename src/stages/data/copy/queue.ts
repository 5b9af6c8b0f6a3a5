/**
 * The copy units still to do, in planning order, and the pump that starts them: at most
 * `controls.jobs` at a time (read live), none while the controls say paused.
 */
import type { CopyUnit } from '../plan/units.js';
import type { Controls } from './controls.js';

/**
 * Tables with the most work behind them first (heap size × (1 + index builds still to do)),
 * a table's units together in block order: tables complete one after another, so their index
 * builds start early and overlap the copy of the next ones, and the run does not end on a long
 * index build.
 */
export function tableWeight(heapBytes: number, earlyLeft: number): number {
  return heapBytes * (1 + earlyLeft);
}

export function orderUnits(units: CopyUnit[], weight: (u: CopyUnit) => number): CopyUnit[] {
  return [...units].sort(
    (a, b) => weight(b) - weight(a) || a.table.key.localeCompare(b.table.key) || a.start - b.start,
  );
}

export class UnitQueue {
  private units: CopyUnit[];

  constructor(units: CopyUnit[]) {
    this.units = [...units];
  }

  get length(): number {
    return this.units.length;
  }

  take(): CopyUnit | undefined {
    return this.units.shift();
  }

  /** Put units back at the front (a table emptied for a recopy goes next). */
  requeue(units: CopyUnit[]): void {
    this.units.unshift(...units);
  }

  ids(): string[] {
    return this.units.map((u) => u.id);
  }
}

export interface PumpOptions {
  queue: UnitQueue;
  controls: Controls;
  runUnit(u: CopyUnit): Promise<void>;
  /** A failure stops new units; the pump ends when the running ones have ended. */
  failed(): boolean;
  fail(e: unknown): void;
  /** Called after each round (e.g. to close idle sessions above the job count). */
  afterRound?(): void;
}

export class UnitPump {
  private active = 0;
  private resolve?: () => void;

  constructor(private o: PumpOptions) {}

  get running(): number {
    return this.active;
  }

  /** Resolves when the queue is empty (or a failure happened) and no unit runs. */
  run(): Promise<void> {
    return new Promise<void>((res) => {
      this.resolve = res;
      this.wake();
    });
  }

  /** Start what may start now: after a unit ends, a requeue, a controls change or a failure. */
  wake = (): void => {
    if (!this.resolve) return;
    const { queue, controls } = this.o;
    while (!this.o.failed() && !controls.paused && this.active < controls.jobs && queue.length > 0) {
      const u = queue.take()!;
      this.active++;
      this.o.runUnit(u).then(
        () => this.ended(),
        (e) => {
          this.o.fail(e);
          this.ended();
        },
      );
    }
    this.o.afterRound?.();
    if (this.active === 0 && (queue.length === 0 || this.o.failed())) this.resolve();
  };

  private ended(): void {
    this.active--;
    this.wake();
  }
}

/**
 * Progress as a typed event stream. The CLI's live bars, `--json` output (one event per line),
 * the state dir's events.jsonl, the report and (later) the console all consume the same events.
 */
export type Phase = 'connect' | 'precheck' | 'schema' | 'data' | 'post-data' | 'cdc' | 'verify' | 'report' | 'finish';

/** A worker of a distributed copy, as the coordinator last read it from the control database. */
export interface WorkerView {
  worker: string;
  host: string;
  pid: number;
  unitsDone: number;
  rows: number;
  bytes: number;
  rowsPerSec: number;
  /** CPU time of the worker process (user + system) while it worked on the task. */
  cpuSec: number;
  heartbeatAgeSec: number;
}

export type FerryEvent =
  /** resumed: the task's state dir holds an earlier run (objects and units it finished are skipped). */
  | { type: 'task-start'; task: string; source: string; target: string; resumed: boolean }
  | { type: 'phase-start'; phase: Phase }
  | { type: 'phase-end'; phase: Phase; durationMs: number; ok: boolean }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'object'; action: 'created' | 'skipped' | 'failed'; kind: string; name: string; section: string }
  /** fresh: a resumed task had to take a new snapshot because the earlier one was gone. */
  | { type: 'snapshot'; snapshot: string; fresh: boolean }
  | { type: 'table-start'; table: string; units: number; estRows: number; estBytes: number }
  | { type: 'unit-done'; table: string; unit: string; rows: number; bytes: number; durationMs: number }
  | { type: 'table-done'; table: string; rows: number; bytes: number; durationMs: number; skippedUnits: number }
  /** The table's units came from a snapshot that is gone: its target rows were discarded, it is copied again whole. */
  | { type: 'table-recopy'; table: string; units: number; discardedUnits: number; rows: number }
  /** The table goes as text although the run uses binary COPY: column and type that rule binary out. */
  | {
      type: 'copy-format';
      table: string;
      format: 'text' | 'binary';
      column: string;
      columnType: string;
      reason: string;
    }
  | { type: 'index-start'; table: string; name: string }
  | { type: 'index-done'; table: string; name: string; durationMs: number }
  | {
      type: 'progress';
      rows: number;
      bytes: number;
      estRows: number;
      estBytes: number;
      rowsPerSec: number;
      bytesPerSec: number;
      etaSec: number | null;
      /** estBytes: heap size on the source; bytes: COPY stream bytes (a different measure). Fractions use rows. */
      active: { table: string; bytes: number; estBytes: number; rows: number; estRows: number }[];
    }
  | { type: 'retry'; what: string; attempt: number; delayMs: number; error: string; sqlstate?: string }
  /** Distributed copy: every worker of the task (src/stages/data/distributed/coordinator.ts). */
  | { type: 'workers'; workers: WorkerView[] }
  | { type: 'throttle'; maxRowsPerSec: number | null; maxBytesPerSec: number | null; jobs: number }
  | { type: 'verify-result'; table: string; ok: boolean; detail: string }
  | { type: 'task-end'; ok: boolean; durationMs: number; error?: string }
  /** Incremental apply: how far the target is behind the source (src/stages/cdc/lag.ts). */
  | {
      type: 'cdc-lag';
      appliedLsn: string;
      lagBytes: number;
      lagSec: number;
      retainedBytes: number | null;
      txnsPerSec: number;
      changesPerSec: number;
    }
  /** Cutover (src/engine/cutover.ts): one step done, and the end with the write downtime. */
  | { type: 'cutover-step'; step: string; durationMs: number }
  | { type: 'cutover-end'; ok: boolean; downtimeMs: number | null; error?: string };

/**
 * An event as consumers see it: `task` names the task (null until the bus is bound to one) and
 * `seq` numbers the task's events, 1, 2, 3… — continuing across reruns of the task (see bind).
 */
export type TimedEvent = FerryEvent & { at: string; task: string | null; seq: number };
export type Listener = (e: TimedEvent) => void;

export class EventBus {
  private listeners: Listener[] = [];
  private task: string | null = null;
  private seq = 0;

  /** Tag the following events with `task`, numbering them from `nextSeq` on. */
  bind(task: string, nextSeq: number): void {
    this.task = task;
    this.seq = Math.max(0, nextSeq - 1);
  }

  on(fn: Listener): () => void {
    this.listeners.push(fn);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== fn);
    };
  }

  emit(e: FerryEvent): void {
    // Object.assign, not a spread: a spread of the many event shapes seen here gives each copy a hidden
    // class of its own (about 0.4 kB an event), and the report keeps an object event per schema object.
    const timed = Object.assign({}, e, {
      at: new Date().toISOString(),
      task: this.task,
      seq: ++this.seq,
    }) as TimedEvent;
    for (const l of this.listeners) {
      try {
        l(timed);
      } catch {
        // a failing consumer (e.g. closed stdout) must not break the migration
      }
    }
  }

  info(message: string): void {
    this.emit({ type: 'log', level: 'info', message });
  }
  warn(message: string): void {
    this.emit({ type: 'log', level: 'warn', message });
  }

  /** Time a phase: emits phase-start/phase-end around fn. */
  async phase<T>(phase: Phase, fn: () => Promise<T>): Promise<T> {
    const t0 = Date.now();
    this.emit({ type: 'phase-start', phase });
    try {
      const r = await fn();
      this.emit({ type: 'phase-end', phase, durationMs: Date.now() - t0, ok: true });
      return r;
    } catch (e) {
      this.emit({ type: 'phase-end', phase, durationMs: Date.now() - t0, ok: false });
      throw e;
    }
  }
}

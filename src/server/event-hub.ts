/**
 * The live events of the tasks this server runs, for the event streams: each task's recent events
 * (its latest progress event only) and the listeners following it. A stream replays from
 * events.jsonl and this history together (deduplicated by seq): the event log appends in batches,
 * so the newest events may be here before they are in the file.
 */
import type { EventBus, TimedEvent } from '../core/events.js';

const HISTORY = 5000;

type Listener = (e: TimedEvent) => void;

class TaskEvents {
  history: TimedEvent[] = [];
  listeners = new Set<Listener>();

  push(e: TimedEvent): void {
    if (e.type === 'progress') {
      let last = this.history.length - 1;
      while (last >= 0 && this.history[last].type !== 'progress') last--;
      if (last >= 0) this.history.splice(last, 1);
    }
    this.history.push(e);
    if (this.history.length > HISTORY) this.history.splice(0, this.history.length - HISTORY);
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch {
        /* a broken stream must not break the run */
      }
    }
  }
}

export class EventHub {
  private tasks = new Map<string, TaskEvents>();
  private taps = new Set<(task: string, e: TimedEvent) => void>();

  /** Every event of every task from now on (for the metrics); returns the function that stops it. */
  tap(fn: (task: string, e: TimedEvent) => void): () => void {
    this.taps.add(fn);
    return () => this.taps.delete(fn);
  }

  private of(task: string): TaskEvents {
    let t = this.tasks.get(task);
    if (!t) this.tasks.set(task, (t = new TaskEvents()));
    return t;
  }

  /** Follow a run's bus; returns the function that stops following it. */
  attach(task: string, bus: EventBus): () => void {
    const t = this.of(task);
    return bus.on((e) => {
      t.push(e);
      for (const fn of this.taps) {
        try {
          fn(task, e);
        } catch {
          /* a broken observer must not break the run */
        }
      }
    });
  }

  /** The task's recent events and, from now on, every new one (synchronously, so nothing falls between). */
  follow(task: string, fn: Listener): { recent: TimedEvent[]; stop: () => void } {
    const t = this.of(task);
    t.listeners.add(fn);
    return { recent: [...t.history], stop: () => t.listeners.delete(fn) };
  }

  /** The latest progress event seen for the task, if any. */
  lastProgress(task: string): Extract<TimedEvent, { type: 'progress' }> | undefined {
    const e = [...(this.tasks.get(task)?.history ?? [])].reverse().find((x) => x.type === 'progress');
    return e?.type === 'progress' ? e : undefined;
  }

  forget(task: string): void {
    this.tasks.delete(task);
  }
}

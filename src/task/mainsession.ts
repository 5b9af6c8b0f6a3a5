/**
 * A runner's long-lived session to one side that survives a restart of its server: work runs
 * through `run`, which retries transient failures (copy.retryTimeSec) on a reopened session.
 * `setup` runs on every (re)connect — on the target it re-takes the task lock.
 */
import type pg from 'pg';
import { connect } from '../conn/connect.js';
import type { ConnSpec } from '../conn/connstring.js';
import { withRetry } from '../copy/retry.js';
import type { EventBus } from './events.js';

export interface MainSessionOptions {
  label: 'source' | 'target';
  role: string;
  retryTimeSec: number;
  events: EventBus;
  signal?: AbortSignal;
  setup?: (c: pg.Client) => Promise<void>;
}

export class MainSession {
  private c: pg.Client | undefined;

  constructor(private readonly spec: ConnSpec, private readonly o: MainSessionOptions) {}

  /** The open session, connecting (and running setup) when there is none. */
  async client(): Promise<pg.Client> {
    if (this.c) return this.c;
    const c = await connect(this.spec, { label: this.o.label, role: this.o.role });
    try {
      await this.o.setup?.(c);
    } catch (e) {
      await c.end().catch(() => {});
      throw e;
    }
    c.on('end', () => {
      if (this.c === c) this.c = undefined;
    });
    this.c = c;
    return c;
  }

  /** Forget the session (after a failure): the next call reconnects. */
  drop(): void {
    const c = this.c;
    this.c = undefined;
    c?.end().catch(() => {});
  }

  /** Run `fn` on the session, retrying transient failures on a fresh session. */
  run<T>(what: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
    const o = this.o;
    return withRetry({ what, retryTimeSec: o.retryTimeSec, events: o.events, signal: o.signal, onRetry: () => this.drop() },
      async () => fn(await this.client()));
  }

  async end(): Promise<void> {
    const c = this.c;
    this.c = undefined;
    await c?.end().catch(() => {});
  }
}

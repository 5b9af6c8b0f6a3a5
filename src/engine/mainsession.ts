/**
 * A runner's long-lived session to one side that survives a restart of its server: work runs
 * through `run`, which retries transient failures (copy.retryTimeSec) on a reopened session.
 * `setup` runs on every (re)connect — on the target it re-takes the task lock. With `keep`, a
 * session lost while idle is reopened at once (so the task lock is not left free meanwhile).
 */
import type pg from 'pg';
import { connect } from '../pg/connect.js';
import type { ConnSpec } from '../pg/connstring.js';
import { withRetry } from '../pg/retry.js';
import type { EventBus } from '../core/events.js';

export interface MainSessionOptions {
  label: 'source' | 'target';
  role: string;
  retryTimeSec: number;
  events: EventBus;
  signal?: AbortSignal;
  setup?: (c: pg.Client) => Promise<void>;
  /** Reopen the session as soon as it is lost, not only when it is next used. */
  keep?: boolean;
  /** Called when a lost session cannot be reopened (e.g. another run took the task lock meanwhile). */
  onLost?: (e: unknown) => void;
}

export class MainSession {
  private c: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;
  /** A background reconnect that failed for good: reported by the next use. */
  private failure: unknown;
  private closing = false;
  private readonly stop = new AbortController();

  constructor(
    private readonly spec: ConnSpec,
    private readonly o: MainSessionOptions,
  ) {}

  /** The open session, connecting (and running setup) when there is none; one connect at a time. */
  async client(): Promise<pg.Client> {
    if (this.failure) throw this.failure;
    if (this.closing) throw new Error(`${this.o.label} session closed`);
    if (this.c) return this.c;
    this.connecting ??= this.open().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async open(): Promise<pg.Client> {
    const c = await connect(this.spec, { label: this.o.label, role: this.o.role });
    try {
      await this.o.setup?.(c);
    } catch (e) {
      await c.end().catch(() => {});
      throw e;
    }
    c.on('end', () => this.lost(c));
    this.c = c;
    return c;
  }

  private lost(c: pg.Client): void {
    if (this.c !== c) return;
    this.c = undefined;
    if (!this.o.keep || this.closing) return;
    this.run('reopen the lost session', async () => undefined, this.stop.signal).catch((e) => {
      if (this.closing) return;
      this.failure = e;
      this.o.onLost?.(e);
    });
  }

  /** Forget the session (after a failure): the next use reconnects. */
  drop(): void {
    const c = this.c;
    this.c = undefined;
    c?.end().catch(() => {});
  }

  /** Run `fn` on the session, retrying transient failures on a fresh session. */
  run<T>(what: string, fn: (c: pg.Client) => Promise<T>, stop?: AbortSignal): Promise<T> {
    const o = this.o;
    const signal = stop && o.signal ? AbortSignal.any([stop, o.signal]) : (stop ?? o.signal);
    return withRetry(
      { what, retryTimeSec: o.retryTimeSec, events: o.events, signal, onRetry: () => this.drop() },
      async () => fn(await this.client()),
    );
  }

  async end(): Promise<void> {
    this.closing = true;
    this.stop.abort();
    const c = this.c ?? (await this.connecting?.catch(() => undefined));
    this.c = undefined;
    await c?.end().catch(() => {});
  }
}

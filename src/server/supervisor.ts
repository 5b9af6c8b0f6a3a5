/**
 * Runs tasks in this process and keeps them going: each run of `migrate()` has its own event bus,
 * redactor and AbortController, and whatever it throws is caught here (a failing task never takes
 * the server down). A run that fails for a transient cause is run again after a backoff
 * (engine/resume-policy.ts), with the attempt and the next attempt's time in service.json and as a
 * `retry` event; a permanent failure stops the task with its cause and fix. A stopped task stays
 * stopped: `desired: "stop"` is written before the run is interrupted and is never overridden
 * except by an explicit start. Tasks that were running when the server stopped start again with it.
 * A task whose lease another process holds in the store (a server killed mid-run keeps it until it
 * expires) is not failed: its attempt waits for the lease's end, then runs.
 */
import { EventBus, type FerryEvent } from '../core/events.js';
import { PgferryError } from '../core/errors.js';
import { Redactor } from '../core/redact.js';
import type { TaskConfig } from '../core/config.js';
import { migrate } from '../engine/runner.js';
import { attachControlFile } from '../stages/data/copy/control-file.js';
import type { Controls } from '../stages/data/copy/controls.js';
import { controlsFrom } from '../stages/data/copy/engine.js';
import { backoffDelay, resumeVerdict, type Backoff } from '../engine/resume-policy.js';
import type { ConnectCause } from '../pg/classify.js';
import { resolveConnSpec } from '../pg/connstring.js';
import { ping } from '../pg/ping.js';
import { verify } from '../stages/verify/index.js';
import { openEventLog } from '../state/eventlog.js';
import { StateDir } from '../state/state-dir.js';
import type { LeaseHolder, TaskStore } from '../state/store.js';
import { leaseHolderName } from '../engine/task-record.js';
import type { EventHub } from './event-hub.js';
import { toApiError } from './http-error.js';
import type { Logger } from './logger.js';
import type { SecretBox } from './secrets.js';
import { initialService, readService, writeService, type ServiceState } from './service-state.js';
import { runnableTask } from './task-input.js';
import { distributedCopy } from './distributed-task.js';

export interface SupervisorOptions {
  dataDir: string;
  store: TaskStore;
  box: SecretBox;
  hub: EventHub;
  backoff: Backoff;
  logger: Logger;
  /** The control database of distributed tasks (`pgferry serve --control`), as given. */
  control?: string;
  /** A run the service starts by itself: after a transient failure, or at server start. */
  onResume?: (id: string, reason: 'retry' | 'restart') => void;
}

interface LiveRun {
  kind: 'migrate' | 'verify';
  ac: AbortController;
  done: Promise<void>;
  /** The live limits a migrate run's copy follows. */
  controls?: Controls;
}

const stoppedByUser = () =>
  new PgferryError('interrupted', 'stopped through the API', { hint: 'start the task again to resume it' });
const serverStopping = () =>
  new PgferryError('interrupted', 'the server is shutting down', {
    hint: 'the task resumes when the server starts again',
  });

/** Time after a lease's expiry before the attempt that waited for it (clocks of two hosts may differ). */
const LEASE_MARGIN_MS = 1_000;

export class Supervisor {
  private live = new Map<string, LiveRun>();
  private timers = new Map<string, NodeJS.Timeout>();
  private closing = false;

  constructor(private readonly o: SupervisorOptions) {}

  /** A run is under way in this process. */
  running(id: string): boolean {
    return this.live.has(id);
  }

  /** The live limits of the task's run here, if one copies. */
  controls(id: string): Controls | undefined {
    return this.live.get(id)?.controls;
  }

  /** Running, or waiting for its next attempt. */
  busy(id: string): boolean {
    return this.live.has(id) || this.timers.has(id);
  }

  service(id: string): ServiceState {
    return readService(this.o.dataDir, id) ?? initialService();
  }

  async patch(id: string, change: Partial<ServiceState>): Promise<ServiceState> {
    const next = { ...this.service(id), ...change };
    for (const k of Object.keys(change) as (keyof ServiceState)[]) if (change[k] === undefined) delete next[k];
    await writeService(this.o.dataDir, id, next);
    return next;
  }

  private async task(id: string): Promise<TaskConfig> {
    const rec = await this.o.store.get(id);
    if (!rec) throw new PgferryError('state', `task "${id}" is gone from the task store`, { hint: 'create it again' });
    return runnableTask(id, rec.config, this.o.dataDir, this.o.box.load(id));
  }

  /** Start the task (a user's start: attempts count from 1 again). */
  async start(id: string): Promise<void> {
    await this.launch(id, 1);
  }

  private async launch(id: string, attempt: number): Promise<void> {
    const task = await this.task(id);
    const redactor = new Redactor();
    // a distributed task on a server without a control database is refused before anything changes
    const distributed = distributedCopy(task, this.o.control, redactor);
    await this.patch(id, {
      desired: 'run',
      attempts: attempt,
      nextAttemptAt: undefined,
      outcome: undefined,
      error: undefined,
      waitingFor: undefined,
    });
    const bus = new EventBus();
    const detach = this.o.hub.attach(id, bus);
    const ac = new AbortController();
    // live limits: set through the API, kept in control.json (also `pgferry throttle`'s), which is followed
    const controls = controlsFrom({ copy: task.copy, jobs: task.jobs });
    const detachControls = attachControlFile(new StateDir(this.o.dataDir, id), controls);
    const store = this.o.store;
    this.o.logger.info('task run started', { task: id, attempt, ...(distributed ? { distributed: 'yes' } : {}) });
    const done = (async () => {
      try {
        const result = await migrate(task, { events: bus, redactor, signal: ac.signal, store, controls, distributed });
        const outcome = result.verify && !result.verify.ok ? 'mismatch' : 'done';
        await this.patch(id, { desired: 'idle', outcome });
        this.o.logger.info('task run ended', { task: id, outcome });
      } catch (e) {
        await this.failed(id, task, e, attempt, redactor);
      } finally {
        detach();
        detachControls();
        this.live.delete(id);
      }
    })().catch((e) => this.o.logger.error('task run crashed', { task: id, error: redactor.redact(String(e)) }));
    this.live.set(id, { kind: 'migrate', ac, done, controls });
  }

  /** After a failed run: stopped, resumed later, or failed for good. */
  private async failed(id: string, task: TaskConfig, e: unknown, attempt: number, redactor: Redactor): Promise<void> {
    const error = toApiError(e, redactor).body.error;
    if (this.service(id).desired === 'stop') {
      await this.patch(id, { outcome: 'stopped', nextAttemptAt: undefined });
      this.o.logger.info('task stopped', { task: id });
      return;
    }
    if (this.closing) {
      // desired stays "run": the task resumes when the server starts again
      this.o.logger.info('task interrupted by the server stopping', { task: id });
      return;
    }
    // refused because another process holds the task: not a failure, the attempt waits for its lease
    const held = e instanceof PgferryError && e.kind === 'state' ? await this.leaseElsewhere(id) : undefined;
    if (held) return this.waitForLease(id, attempt, held, redactor);
    const probe = needsProbe(e) ? await probeCauses(task, redactor) : undefined;
    const verdict = resumeVerdict(e, probe);
    const delay = verdict.resume ? backoffDelay(attempt + 1, this.o.backoff) : undefined;
    if (delay === undefined) {
      await this.patch(id, { desired: 'idle', outcome: 'failed', error, nextAttemptAt: undefined });
      this.o.logger.warn('task failed', { task: id, attempt, cause: error.cause, fix: error.fix });
      return;
    }
    const nextAttemptAt = new Date(Date.now() + delay).toISOString();
    await this.patch(id, { error, nextAttemptAt });
    this.o.logger.warn('task will be resumed', {
      task: id,
      attempt: attempt + 1,
      at: nextAttemptAt,
      cause: error.cause,
    });
    const what = `task ${id} (${verdict.reason}): attempt ${attempt + 1} at ${nextAttemptAt}`;
    await this.record(id, { type: 'retry', what, attempt, delayMs: delay, error: error.cause }, redactor);
    this.schedule(id, attempt + 1, delay);
  }

  /** Run attempt `attempt` after `delay` ms, unless a stop comes first. */
  private schedule(id: string, attempt: number, delay: number): void {
    if (this.service(id).desired !== 'run') return; // stopped while the last run was ending
    const timer = setTimeout(() => {
      this.timers.delete(id);
      // checked again when it is due: a stop recorded in between wins
      if (this.closing || this.service(id).desired !== 'run') return;
      this.o.onResume?.(id, 'retry');
      this.launch(id, attempt).catch((err) => this.afterLaunchFailure(id, err));
    }, delay);
    this.timers.set(id, timer);
  }

  /** The lease of another process on the task, if one holds it now. */
  private async leaseElsewhere(id: string): Promise<LeaseHolder | undefined> {
    const held = await this.o.store.currentLease(id).catch(() => undefined);
    return held && held.holder !== leaseHolderName() ? held : undefined;
  }

  /**
   * Attempt `attempt` waits until the lease `held` has expired (or its holder gave it up and took
   * another; then it waits again): a run of the task elsewhere, or one that died and holds it still.
   */
  private async waitForLease(id: string, attempt: number, held: LeaseHolder, redactor: Redactor): Promise<void> {
    const delay = Math.max(0, Date.parse(held.expiresAt) - Date.now()) + LEASE_MARGIN_MS;
    const nextAttemptAt = new Date(Date.now() + delay).toISOString();
    // desired is left as it is ("run"): a stop recorded meanwhile must win
    await this.patch(id, { attempts: attempt - 1, nextAttemptAt, waitingFor: held.holder });
    const what = `task ${id} (held by ${held.holder} until ${held.expiresAt}): attempt ${attempt} at ${nextAttemptAt}`;
    const cause = `the task's lease is held by ${held.holder}`;
    await this.record(id, { type: 'retry', what, attempt: attempt - 1, delayMs: delay, error: cause }, redactor);
    this.schedule(id, attempt, delay);
  }

  private async afterLaunchFailure(id: string, e: unknown): Promise<void> {
    const { error } = toApiError(e).body;
    this.o.logger.error('task cannot start', { task: id, cause: error.cause, fix: error.fix });
    await this.patch(id, { desired: 'idle', outcome: 'failed', error, nextAttemptAt: undefined }).catch(() => {});
  }

  /** An event of the service about the task, numbered after the task's events and appended to its log. */
  private async record(id: string, e: FerryEvent, redactor: Redactor): Promise<void> {
    const bus = new EventBus();
    const detach = this.o.hub.attach(id, bus);
    const log = openEventLog(new StateDir(this.o.dataDir, id, redactor), bus, id);
    try {
      bus.emit(e);
    } finally {
      detach();
      await log.close().catch(() => {});
    }
  }

  /** Stop: recorded first (so nothing resumes it), then the run is interrupted or the next attempt cancelled. */
  async stop(id: string): Promise<void> {
    await this.patch(id, { desired: 'stop', nextAttemptAt: undefined });
    const t = this.timers.get(id);
    if (t) clearTimeout(t);
    this.timers.delete(id);
    if (!this.live.has(id)) await this.patch(id, { outcome: 'stopped' });
    this.live.get(id)?.ac.abort(stoppedByUser());
  }

  /** Verify the task's target against its source, as a run of its own. */
  async verify(id: string): Promise<void> {
    const task = await this.task(id);
    const mode = task.verify === 'hash' ? 'hash' : 'count';
    const bus = new EventBus();
    const redactor = new Redactor();
    const detach = this.o.hub.attach(id, bus);
    const log = openEventLog(new StateDir(this.o.dataDir, id, redactor), bus, id);
    const ac = new AbortController();
    const done = (async () => {
      try {
        const report = await bus.phase('verify', () =>
          verify(task, { mode, events: bus, redactor, signal: ac.signal }),
        );
        await this.patch(id, { outcome: report.ok ? 'done' : 'mismatch', error: undefined });
      } catch (e) {
        await this.patch(id, { outcome: 'failed', error: toApiError(e, redactor).body.error });
      } finally {
        detach();
        await log.close().catch(() => {});
        this.live.delete(id);
      }
    })().catch((e) => this.o.logger.error('verify run crashed', { task: id, error: redactor.redact(String(e)) }));
    this.live.set(id, { kind: 'verify', ac, done });
  }

  /** At start-up: tasks the server was running when it stopped run again. */
  async resumeAll(): Promise<string[]> {
    const resumed: string[] = [];
    for (const rec of await this.o.store.list()) {
      const s = readService(this.o.dataDir, rec.id);
      if (s?.desired !== 'run' || this.busy(rec.id)) continue;
      try {
        const held = await this.leaseElsewhere(rec.id);
        if (held) await this.waitForLease(rec.id, s.attempts + 1, held, new Redactor());
        else {
          this.o.onResume?.(rec.id, 'restart');
          await this.launch(rec.id, s.attempts + 1);
        }
        resumed.push(rec.id);
      } catch (e) {
        await this.afterLaunchFailure(rec.id, e);
      }
    }
    return resumed;
  }

  /** Interrupt every run (they resume at the next start) and wait for them to end. */
  async close(): Promise<void> {
    this.closing = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    const runs = [...this.live.values()];
    for (const r of runs) r.ac.abort(serverStopping());
    await Promise.all(runs.map((r) => r.done));
  }
}

/** A connection failure whose cause the error does not carry (a precheck that could not connect). */
function needsProbe(e: unknown): boolean {
  return e instanceof PgferryError && e.kind === 'connect' && (e as { connCause?: unknown }).connCause === undefined;
}

/** Why each side fails to connect now (sides that answer are left out). */
async function probeCauses(task: TaskConfig, redactor: Redactor): Promise<ConnectCause[]> {
  const causes: ConnectCause[] = [];
  for (const [side, text] of [
    ['source', task.source],
    ['target', task.target],
  ] as const) {
    try {
      const r = await ping(resolveConnSpec(text, { redactor }), side);
      if (!r.ok) causes.push(r.cause);
    } catch {
      causes.push('unknown');
    }
  }
  return causes;
}

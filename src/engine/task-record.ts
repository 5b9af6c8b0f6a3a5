/**
 * A run's task record and lease in the task store (src/state/store.ts): the record is created on
 * the first run, then updated through the lease — status, phase, error, the endpoints (no
 * passwords), the start time, the task as run (passwords removed) and a progress summary at most
 * once per PROGRESS_EVERY_MS — so that a task list (`status`, a server) reads it while the task runs.
 * The lease keeps a second run of the task out, in this process, another one, or on another host
 * sharing the store; it is renewed while the run lasts and `lost` aborts when it is lost.
 */
import { hostname } from 'node:os';
import type { EventBus, TimedEvent } from '../core/events.js';
import { errorMessage, PgferryError } from '../core/errors.js';
import type { Redactor } from '../core/redact.js';
import { keepLease, type LeaseKeeper } from '../state/lease-keeper.js';
import { scrub } from '../state/scrub.js';
import type { LeaseHolder, TaskPatch, TaskRecord, TaskStore } from '../state/store.js';

/** How long a lease lasts without renewal: a run that dies gives its task up this long after. */
export const DEFAULT_LEASE_TTL_MS = 30_000;
/** Shortest time between two progress updates of the record. */
export const PROGRESS_EVERY_MS = 2_000;

export interface RecordInit {
  store: TaskStore;
  taskId: string;
  events: EventBus;
  redactor: Redactor;
  ttlMs: number;
  /** The task as run, passwords removed. */
  config: Record<string, unknown>;
  /** Fields of this run: source and target (safe URIs), start time. */
  info: Record<string, unknown>;
}

export interface TaskRecordWriter {
  /** An earlier run of the task started before this one: this run continues it. */
  readonly resumed: boolean;
  /** Aborted, with the reason, when the lease is lost. */
  readonly lost: AbortSignal;
  /** Change status, phase or error; an update refused because the lease was lost throws. */
  write(fields: { status?: string; phase?: string; error?: string }): Promise<void>;
  /** Stop following progress, write the last one, stop renewing and give the lease up. */
  close(): Promise<void>;
}

/** Who runs the task, as a refused second run is told. */
export const leaseHolderName = (): string => `pgferry pid ${process.pid} on ${hostname()}`;

function alreadyRunning(taskId: string, held: LeaseHolder | undefined): PgferryError {
  const here = held?.holder === leaseHolderName();
  const who = held ? ` (${held.holder}, lease until ${held.expiresAt})` : '';
  return new PgferryError('state', `task "${taskId}" is already running${here ? ' in this process' : ''}${who}`, {
    hint:
      'wait for that run to end, or stop it (it resumes later); a run that died without giving the task up ' +
      'holds it until its lease expires',
  });
}

/** The record (created when new), then the lease, or a refusal naming its holder. */
async function claim(o: RecordInit): Promise<{ earlier: TaskRecord | undefined; keeper: LeaseKeeper }> {
  const earlier = await o.store.get(o.taskId);
  if (!earlier) {
    await o.store.create(o.taskId, { status: 'created', config: o.config }).catch(async (e: unknown) => {
      if (!(await o.store.get(o.taskId))) throw e; // else created at the same moment by another run
    });
  }
  const lease = await o.store.lease(o.taskId, leaseHolderName(), o.ttlMs);
  if (!lease) throw alreadyRunning(o.taskId, await o.store.currentLease(o.taskId));
  return { earlier, keeper: keepLease(o.store, lease, o.ttlMs) };
}

type ProgressEvent = Extract<TimedEvent, { type: 'progress' }>;
/** The record's progress (`info.progress`): the progress event's figures and time, without the per-table list. */
export type ProgressSummary = Omit<ProgressEvent, 'type' | 'active' | 'task' | 'seq'>;

const progressSummary = ({
  type: _type,
  active: _active,
  task: _task,
  seq: _seq,
  ...summary
}: ProgressEvent): ProgressSummary => summary;

/** Claim the task and start its record for this run. */
export async function openTaskRecord(o: RecordInit): Promise<TaskRecordWriter> {
  const { earlier, keeper } = await claim(o);
  let chain: Promise<unknown> = Promise.resolve();
  /** Updates in order, under the lease; the task's own redactor scrubs them first. */
  const update = (patch: TaskPatch): Promise<void> => {
    const next = chain.then(() => o.store.update(o.taskId, scrub(patch, o.redactor), keeper.current));
    chain = next.catch(() => {});
    return next.then(() => {});
  };
  let progress: ProgressSummary | undefined;
  let progressAt = 0;
  const stopProgress = o.events.on((e) => {
    if (e.type !== 'progress') return;
    progress = progressSummary(e);
    if (Date.now() - progressAt < PROGRESS_EVERY_MS) return;
    progressAt = Date.now();
    update({ info: { progress } }).catch(() => {
      /* best effort: the next one, or the status write, carries it */
    });
  });
  try {
    await update({ status: 'running', config: o.config, info: { ...o.info, error: null, progress: null } });
  } catch (e) {
    stopProgress();
    await keeper.stop().catch(() => {});
    throw e;
  }
  return {
    resumed: earlier?.info.startedAt !== undefined,
    lost: keeper.lost,
    async write(f) {
      const info: Record<string, unknown> = progress ? { progress } : {};
      if (f.error !== undefined) info.error = f.error;
      try {
        await update({ status: f.status, phase: f.phase, info });
      } catch (e) {
        // a lost lease stops the run; a store that cannot be reached now only delays the record
        if (e instanceof PgferryError && e.kind === 'state') throw e;
        o.events.warn(
          `the task store did not take the task's ${f.phase ?? f.status} update: ${errorMessage(e, o.redactor)}`,
        );
      }
    },
    async close() {
      stopProgress();
      if (progress && !keeper.lost.aborted) await update({ info: { progress } }).catch(() => {});
      await chain;
      await keeper.stop().catch(() => {
        /* the store is gone: the lease expires by itself */
      });
    },
  };
}

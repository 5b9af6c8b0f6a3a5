/**
 * Where tasks live: the `TaskStore` interface and what its implementations share. A task record is
 * the task as run (passwords removed), its status and phase, and free-form info; a lease is an
 * exclusive claim on a task until it expires, renewed while the holder runs the task, so that one
 * process at a time — on one host or several — runs it.
 *
 * Implementations: the state directory (file-store.ts, one host) and a PostgreSQL schema
 * (pg-store.ts, shared by hosts and a future server).
 */
import { randomUUID } from 'node:crypto';
import { PgferryError } from '../core/errors.js';

export interface TaskRecord {
  id: string;
  status: string;
  phase: string | null;
  /** The task as run, passwords removed. */
  config: Record<string, unknown>;
  /** Anything else worth keeping with the task (source, target, start time, last error…). */
  info: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
  /** Incremented by every update. */
  rev: number;
}

export interface TaskInit {
  status?: string;
  phase?: string | null;
  config?: Record<string, unknown>;
  info?: Record<string, unknown>;
}

/** Fields to change; `info` is merged into the stored info (a key set to null removes it). */
export type TaskPatch = TaskInit;

export interface Lease {
  taskId: string;
  /** Who holds it (host and pid, by convention), shown to a refused claimant. */
  holder: string;
  /** Proof of holding: renew, release and guarded updates compare it. */
  token: string;
  expiresAt: string;
}

export type LeaseHolder = Omit<Lease, 'token'> & {
  /**
   * The holder has missed its renewals (two thirds of the lease's time without one) yet cannot be
   * told dead: a host or network that stopped answering, a stopped process. Its lease runs out by itself.
   */
  unreachable?: boolean;
};

/** "owner unreachable, lease expires in N s", for a lease whose holder is silent. */
export function unreachableNote(held: LeaseHolder, now = Date.now()): string | undefined {
  if (!held.unreachable) return undefined;
  return `owner unreachable, lease expires in ${Math.max(0, Math.ceil((Date.parse(held.expiresAt) - now) / 1000))} s`;
}

export interface TaskStore {
  list(): Promise<TaskRecord[]>;
  get(id: string): Promise<TaskRecord | undefined>;
  /** Refused when the task exists. */
  create(id: string, init: TaskInit): Promise<TaskRecord>;
  /** Refused when the task does not exist, or when `lease` is given and is no longer held. */
  update(id: string, patch: TaskPatch, lease?: Lease): Promise<TaskRecord>;
  /** Claim the task for `ttlMs`; undefined while another holder's lease runs. */
  lease(id: string, holder: string, ttlMs: number): Promise<Lease | undefined>;
  /** Extend a lease still held (nobody claimed it since); refused when it was lost. */
  renew(lease: Lease, ttlMs: number): Promise<Lease>;
  /** Give the lease up (nothing happens when it was lost already). */
  release(lease: Lease): Promise<void>;
  /** Who holds the task's lease now (undefined when nobody does); the token is not given out. */
  currentLease(id: string): Promise<LeaseHolder | undefined>;
  close(): Promise<void>;
}

const TASK_ID = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}$/;

/** Task ids name directories and rows: letters, digits, `_`, `.`, `-`, not starting with `.` or `-`. */
export function checkTaskId(id: string): void {
  if (!TASK_ID.test(id)) {
    throw new PgferryError('usage', `invalid task name ${JSON.stringify(id)}`, {
      hint: 'use letters, digits, "_", "." and "-" (at most 200, not starting with "." or "-")',
    });
  }
}

export const newToken = (): string => randomUUID();

export function noSuchTask(id: string): PgferryError {
  return new PgferryError('state', `task "${id}" does not exist in the task store`, {
    hint: 'create it first, or check the task name',
  });
}

export function taskExists(id: string): PgferryError {
  return new PgferryError('state', `task "${id}" already exists in the task store`, {
    hint: 'pick another name, or continue the existing task',
  });
}

export function leaseLost(lease: Lease): PgferryError {
  return new PgferryError('state', `the lease of "${lease.holder}" on task "${lease.taskId}" was lost`, {
    hint: 'another process claimed the task after the lease expired; stop this run, it no longer owns the task',
  });
}

/** A new task's fields from its init, with the defaults every store applies. */
export function initialFields(init: TaskInit): Pick<TaskRecord, 'status' | 'phase' | 'config' | 'info'> {
  return {
    status: init.status ?? 'created',
    phase: init.phase ?? null,
    config: init.config ?? {},
    info: mergeInfo({}, init.info),
  };
}

/** The info keys a patch removes (set to null). */
export function removedInfoKeys(patch: TaskPatch): string[] {
  return Object.entries(patch.info ?? {})
    .filter(([, v]) => v === null)
    .map(([k]) => k);
}

/** Merge an info patch: keys set to null are removed. */
export function mergeInfo(info: Record<string, unknown>, patch?: Record<string, unknown>): Record<string, unknown> {
  const out = { ...info };
  for (const [k, v] of Object.entries(patch ?? {})) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}

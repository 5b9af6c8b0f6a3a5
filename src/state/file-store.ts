/**
 * The task store of one host: the state directory (`./.pgferry/<task>/`). A task's record is its
 * task.json (the file `status` reads, with the fields of today at the top level), its lease is
 * lease.json (lease-file.ts: a lease whose process died on this host is void at once). Changes are read-modify-write under a short mutex (a directory made with mkdir, which
 * is atomic) and written aside then renamed, so readers never see half a file.
 */
import { mkdir, readFile, readdir, rm, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { PgferryError } from '../core/errors.js';
import { StateDir, STATE_VERSION } from './state-dir.js';
import { replacePrivate } from './private-file.js';
import { LEASE_FILE, leaseDocument, leaseLive, leaseSilent, readLeaseFile, type LeaseDocument } from './lease-file.js';
import { scrubbedJson } from './scrub.js';
import {
  checkTaskId,
  initialFields,
  leaseLost,
  mergeInfo,
  newToken,
  noSuchTask,
  taskExists,
  type Lease,
  type LeaseHolder,
  type TaskInit,
  type TaskPatch,
  type TaskRecord,
  type TaskStore,
} from './store.js';

const MUTEX = '.store.lock';
const MUTEX_STALE_MS = 10_000;
const MUTEX_WAIT_MS = 10_000;
const KNOWN = new Set(['version', 'name', 'status', 'phase', 'config', 'createdAt', 'updatedAt', 'rev']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** task.json → record: known fields, everything else is info (source, target, startedAt, error…). */
function toRecord(id: string, doc: Record<string, unknown>, mtime: Date): TaskRecord {
  const info = Object.fromEntries(Object.entries(doc).filter(([k]) => !KNOWN.has(k)));
  const at = (v: unknown, d: string) => (typeof v === 'string' ? v : d);
  return {
    id,
    status: at(doc.status, 'unknown'),
    phase: typeof doc.phase === 'string' ? doc.phase : null,
    config: (doc.config ?? {}) as Record<string, unknown>,
    info,
    createdAt: at(doc.createdAt, at(doc.startedAt, mtime.toISOString())),
    updatedAt: at(doc.updatedAt, mtime.toISOString()),
    rev: typeof doc.rev === 'number' ? doc.rev : 0,
  };
}

function toDocument(r: TaskRecord): string {
  const { id, info, ...rest } = r;
  return scrubbedJson({ version: STATE_VERSION, name: id, ...info, ...rest }, 2) + '\n';
}

export class FileTaskStore implements TaskStore {
  constructor(readonly root: string) {}

  private dir(id: string): StateDir {
    checkTaskId(id);
    return new StateDir(this.root, id);
  }

  async list(): Promise<TaskRecord[]> {
    if (!existsSync(this.root)) return [];
    const names = (await readdir(this.root, { withFileTypes: true }))
      .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
      .map((d) => d.name)
      .sort();
    const out: TaskRecord[] = [];
    for (const n of names) {
      const r = await this.get(n).catch(() => undefined);
      if (r) out.push(r);
    }
    return out;
  }

  async get(id: string): Promise<TaskRecord | undefined> {
    const p = this.dir(id).path('task.json');
    let text: string;
    try {
      text = await readFile(p, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    let doc: Record<string, unknown>;
    try {
      doc = JSON.parse(text) as Record<string, unknown>;
    } catch (e) {
      throw new PgferryError('state', `state file ${p} is unreadable: ${(e as Error).message}`, {
        hint: 'remove the file (or the task dir) to start the task afresh',
      });
    }
    return toRecord(id, doc, (await stat(p)).mtime);
  }

  async create(id: string, init: TaskInit): Promise<TaskRecord> {
    const state = this.dir(id);
    state.ensure();
    return this.locked(state, async () => {
      if (existsSync(state.path('task.json'))) throw taskExists(id);
      const now = new Date().toISOString();
      const r: TaskRecord = { id, ...initialFields(init), createdAt: now, updatedAt: now, rev: 1 };
      await replacePrivate(state.path('task.json'), toDocument(r));
      return (await this.get(id))!;
    });
  }

  async update(id: string, patch: TaskPatch, lease?: Lease): Promise<TaskRecord> {
    const state = this.dir(id);
    if (!state.exists()) throw noSuchTask(id);
    return this.locked(state, async () => {
      const cur = await this.get(id);
      if (!cur) throw noSuchTask(id);
      if (lease && !(await this.holds(state, lease, Date.now()))) throw leaseLost(lease);
      const next: TaskRecord = {
        ...cur,
        status: patch.status ?? cur.status,
        phase: patch.phase !== undefined ? patch.phase : cur.phase,
        config: patch.config ?? cur.config,
        info: mergeInfo(cur.info, patch.info),
        updatedAt: new Date().toISOString(),
        rev: cur.rev + 1,
      };
      await replacePrivate(state.path('task.json'), toDocument(next));
      return (await this.get(id))!;
    });
  }

  async lease(id: string, holder: string, ttlMs: number): Promise<Lease | undefined> {
    const state = this.dir(id);
    if (!existsSync(state.path('task.json'))) throw noSuchTask(id);
    return this.locked(state, async () => {
      if (leaseLive(readLease(state))) return undefined;
      const lease = { taskId: id, holder, token: newToken(), expiresAt: new Date(Date.now() + ttlMs).toISOString() };
      await writeLease(state, lease);
      return lease;
    });
  }

  async renew(lease: Lease, ttlMs: number): Promise<Lease> {
    const state = this.dir(lease.taskId);
    return this.locked(state, async () => {
      const cur = readLease(state);
      if (!cur || cur.token !== lease.token) throw leaseLost(lease);
      const next = { ...lease, expiresAt: new Date(Date.now() + ttlMs).toISOString() };
      await writeLease(state, next);
      return next;
    });
  }

  async release(lease: Lease): Promise<void> {
    const state = this.dir(lease.taskId);
    if (!state.exists()) return;
    await this.locked(state, async () => {
      const cur = readLease(state);
      if (cur?.token === lease.token) await rm(state.path(LEASE_FILE), { force: true });
    });
  }

  async currentLease(id: string): Promise<LeaseHolder | undefined> {
    const cur = readLease(this.dir(id));
    if (!leaseLive(cur)) return undefined;
    const held = { taskId: id, holder: cur.holder, expiresAt: cur.expiresAt };
    return leaseSilent(cur) ? { ...held, unreachable: true } : held;
  }

  async close(): Promise<void> {}

  /** Is `lease` the task's lease, unexpired at `now`? (Under the mutex.) */
  private async holds(state: StateDir, lease: Lease, now: number): Promise<boolean> {
    const cur = readLease(state);
    return cur?.token === lease.token && Date.parse(cur.expiresAt) > now;
  }

  /** Run `fn` holding the task's mutex. */
  private async locked<T>(state: StateDir, fn: () => Promise<T>): Promise<T> {
    const p = state.path(MUTEX);
    const deadline = Date.now() + MUTEX_WAIT_MS;
    for (;;) {
      try {
        await mkdir(p, { mode: 0o700 });
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const age = await stat(p).then(
          (s) => Date.now() - s.mtimeMs,
          () => 0,
        );
        if (age > MUTEX_STALE_MS)
          await rm(p, { recursive: true, force: true }); // left by a killed process
        else if (Date.now() > deadline) throw mutexTimeout(p);
        else await sleep(2 + Math.random() * 10);
      }
    }
    try {
      return await fn();
    } finally {
      await rm(p, { recursive: true, force: true });
    }
  }
}

const readLease = (state: StateDir): LeaseDocument | undefined => readLeaseFile(state.path(LEASE_FILE));

const writeLease = (state: StateDir, lease: Lease): Promise<void> =>
  replacePrivate(state.path(LEASE_FILE), scrubbedJson(leaseDocument(lease)) + '\n');

function mutexTimeout(p: string): PgferryError {
  return new PgferryError('state', `the task store lock ${p} has been held for over ${MUTEX_WAIT_MS / 1000} s`, {
    hint: `if no pgferry process is using the task, remove ${p}`,
  });
}

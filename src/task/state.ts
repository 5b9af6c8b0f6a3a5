/**
 * The task's local state directory (default ./.pgferry/<task>/): the task as run (no
 * passwords), events.jsonl, the report, a pid lock, and control.json — the hook through
 * which throttling and job counts change while the task runs.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PgferryError } from '../errors.js';
import { redact } from '../util/redact.js';
import type { TimedEvent } from './events.js';

export const STATE_VERSION = 1;

export class StateDir {
  readonly dir: string;
  constructor(root: string, readonly task: string) {
    this.dir = resolve(root, task);
  }

  static rootFor(stateDir?: string): string {
    return resolve(stateDir ?? process.env.PGFERRY_STATE_DIR ?? '.pgferry');
  }

  ensure(): void {
    mkdirSync(this.dir, { recursive: true });
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  exists(): boolean {
    return existsSync(this.dir);
  }

  /** Atomic write of a JSON document, passwords scrubbed. */
  writeJson(name: string, value: unknown): void {
    this.ensure();
    const tmp = this.path(`.${name}.tmp`);
    writeFileSync(tmp, redact(JSON.stringify({ version: STATE_VERSION, ...(value as object) }, null, 2)) + '\n', { mode: 0o600 });
    renameSync(tmp, this.path(name));
  }

  readJson<T>(name: string): T | undefined {
    const p = this.path(name);
    if (!existsSync(p)) return undefined;
    let v: { version?: number };
    try {
      v = JSON.parse(readFileSync(p, 'utf8'));
    } catch (e) {
      throw new PgferryError('state', `state file ${p} is unreadable: ${(e as Error).message}`, { hint: 'remove the file (or the task dir) to start the task afresh' });
    }
    if (v.version !== STATE_VERSION) {
      throw new PgferryError('state', `state file ${p} has version ${v.version}, expected ${STATE_VERSION}`, { hint: 'finish the task with the pgferry version that started it' });
    }
    return v as T;
  }

  writeText(name: string, text: string): void {
    this.ensure();
    writeFileSync(this.path(name), redact(text), { mode: 0o600 });
  }

  appendEvent(e: TimedEvent): void {
    appendFileSync(this.path('events.jsonl'), redact(JSON.stringify(e)) + '\n');
  }

  /** Take the run lock; refuses when another live process holds it. */
  lock(): () => void {
    this.ensure();
    const p = this.path('pid');
    const holder = this.runningPid();
    if (holder !== undefined && holder !== process.pid) {
      throw new PgferryError('state', `task "${this.task}" is already running (pid ${holder})`, {
        hint: 'wait for it, or stop it (kill <pid>) before starting it again',
      });
    }
    writeFileSync(p, String(process.pid));
    return () => rmSync(p, { force: true });
  }

  /** pid of the live process running this task, if any. */
  runningPid(): number | undefined {
    const p = this.path('pid');
    if (!existsSync(p)) return undefined;
    const pid = Number(readFileSync(p, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    try {
      process.kill(pid, 0);
      return pid;
    } catch {
      return undefined;
    }
  }
}

/** Runtime controls read while a task runs (written by `pgferry throttle` or by hand). */
export interface Controls {
  maxRowsPerSec?: number | null;
  maxBytesPerSec?: number | null;
  jobs?: number;
}

export function readControls(state: StateDir): Controls | undefined {
  const p = state.path('control.json');
  if (!existsSync(p)) return undefined;
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as Controls;
  } catch {
    return undefined;
  }
}

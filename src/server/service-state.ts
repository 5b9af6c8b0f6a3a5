/**
 * What the service alone keeps about a task, next to the runner's files in the task's state dir
 * (service.json, 0600): whether the user wants it running (`desired`: a stopped task is never
 * resumed behind the user's back, also across restarts of the server), the attempts of the current
 * start, when the next one is due, the last failure with its fix, and the last precheck.
 */
import { existsSync, readFileSync } from 'node:fs';
import { StateDir } from '../state/state-dir.js';
import { replacePrivate } from '../state/private-file.js';
import { scrubbedJson } from '../state/scrub.js';
import type { Redactor } from '../core/redact.js';

export const SERVICE_FILE = 'service.json';

export type Desired = 'idle' | 'run' | 'stop';

export interface ApiPrecheckItem {
  id: string;
  title: string;
  result: 'pass' | 'warning' | 'fail' | 'skipped';
  message: string;
  objects: string[];
  fix?: string;
}

export interface ApiPrecheck {
  ok: boolean;
  items: ApiPrecheckItem[];
  at: string;
}

export interface ServiceState {
  desired: Desired;
  /** Runs of the current start (1 for the first run; a retry after a transient failure adds one). */
  attempts: number;
  nextAttemptAt?: string;
  /** How the last run ended: done, mismatch (verification differences), failed (permanent), stopped. */
  outcome?: 'done' | 'mismatch' | 'failed' | 'stopped';
  error?: { cause: string; fix: string; code: string };
  precheck?: ApiPrecheck;
  /** The holder of the lease the last attempt waited for (a run elsewhere, or a dead one's). */
  waitingFor?: string;
  /** When the task's checkpoints were removed from the target (finish). */
  finished?: string;
}

export const initialService = (): ServiceState => ({ desired: 'idle', attempts: 0 });

export function readService(dataDir: string, task: string): ServiceState | undefined {
  const p = new StateDir(dataDir, task).path(SERVICE_FILE);
  if (!existsSync(p)) return undefined;
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as ServiceState;
  } catch {
    return undefined;
  }
}

export async function writeService(dataDir: string, task: string, s: ServiceState, r?: Redactor): Promise<void> {
  const state = new StateDir(dataDir, task);
  state.ensure();
  await replacePrivate(state.path(SERVICE_FILE), scrubbedJson(s, 2, r) + '\n');
}

/**
 * Automatic resume: whether a failed run of a task is worth running again by itself, and when.
 * Transient: the run lost a server (connection lost or refused, server restarting or shutting
 * down, an administrator's termination, too many connections, a lost snapshot) — the runner's own
 * retries (copy.retryTimeSec) ran out, and a later run resumes from the checkpoints — or another
 * session holds the task's lock on the target (it may be a dead run's, until the target drops it). Permanent:
 * what only a person can fix — a wrong password, a missing privilege, a blocking precheck item,
 * a bad filter or task, a failing statement — and an interruption asked for.
 * SQLSTATE classes and connection causes come from src/pg/retry.ts and src/pg/classify.ts.
 */
import type { ConnectCause } from '../pg/classify.js';
import { isTransient } from '../pg/retry.js';
import { PgferryError } from '../core/errors.js';
import { TaskLockHeld } from './tasklock.js';

export type Verdict = { resume: true; reason: string } | { resume: false; reason: string };

/** Connection causes a later attempt may get past without anyone changing anything. */
const TRANSIENT_CAUSES: ReadonlySet<ConnectCause> = new Set([
  'connection_refused',
  'timeout',
  'unreachable',
  'too_many_connections',
  'server_not_ready',
]);

export const isTransientCause = (c: ConnectCause): boolean => TRANSIENT_CAUSES.has(c);

/**
 * The verdict on a run's error. `probe`: the causes found by connecting to both sides after a
 * connection failure whose cause the error does not say (a precheck that could not connect);
 * a side that answered is not in it, and an empty probe means both answer now.
 */
export function resumeVerdict(e: unknown, probe?: ConnectCause[]): Verdict {
  // the lock's session may belong to a run that is gone (a crashed host's, until the target drops it)
  if (e instanceof TaskLockHeld) return { resume: true, reason: "another session holds the task's lock on the target" };
  if (e instanceof PgferryError) {
    switch (e.kind) {
      case 'transient':
        return { resume: true, reason: 'transient failures outlasted the retry time of the run' };
      case 'interrupted':
        return { resume: false, reason: 'interrupted' };
      case 'connect': {
        const cc = (e as { connCause?: ConnectCause }).connCause;
        // both sides answer again: what failed has passed by itself
        if (!cc && probe?.length === 0) return { resume: true, reason: 'servers reachable again' };
        const causes = cc ? [cc] : (probe ?? []);
        if (causes.length && causes.every(isTransientCause)) {
          return { resume: true, reason: `server unreachable (${causes.join(', ')})` };
        }
        return { resume: false, reason: causes.length ? `cannot connect (${causes.join(', ')})` : 'cannot connect' };
      }
      case 'usage':
      case 'precheck':
      case 'verify':
      case 'state':
        return { resume: false, reason: `${e.kind} error` };
    }
  }
  if (isTransient(e)) return { resume: true, reason: 'connection lost' };
  if (e instanceof Error && /snapshot .*(?:does not exist|invalid|gone|lost)/i.test(e.message)) {
    return { resume: true, reason: 'snapshot lost' };
  }
  return { resume: false, reason: 'permanent error' };
}

export interface Backoff {
  /** Delay before the second attempt; doubled for each further one. */
  baseMs: number;
  /** The longest delay. */
  maxMs: number;
  /** Attempts in all (the first run included); 0 for no limit. */
  maxAttempts: number;
}

export const DEFAULT_BACKOFF: Backoff = { baseMs: 5_000, maxMs: 300_000, maxAttempts: 10 };

/** The delay before attempt `next` (2, 3, …), or undefined when no attempt is left. */
export function backoffDelay(next: number, b: Backoff): number | undefined {
  if (b.maxAttempts > 0 && next > b.maxAttempts) return undefined;
  return Math.min(b.maxMs, b.baseMs * 2 ** Math.max(0, next - 2));
}

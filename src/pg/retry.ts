/**
 * Transient-failure handling for the data engine: which errors are worth retrying (lost
 * connections, server shutting down, too many connections, serialization/deadlock, out of
 * resources) and an exponential backoff with full jitter bounded by copy.retryTimeSec.
 */
import { PgferryError, StatementError, errorMessage, isPgError } from '../core/errors.js';
import type { EventBus } from '../core/events.js';

/** SQLSTATEs retried. Class 08 (connection exception) is matched by prefix. */
export const TRANSIENT_SQLSTATES = new Set([
  '57P01', // admin_shutdown (pg_terminate_backend, fast shutdown)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up / recovery)
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '53300', // too_many_connections
  '53400', // configuration_limit_exceeded
]);

const TRANSIENT_ERRNO = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
]);
const TRANSIENT_TEXT = new RegExp(
  [
    'Connection terminated',
    'terminating connection',
    'Client has encountered a connection error',
    'Connection ended',
    'socket hang up',
    'read ECONNRESET',
    'write EPIPE',
    'timeout expired',
  ].join('|'),
  'i',
);
const TRANSIENT_CONN_CAUSE = /^(connection_refused|unreachable|timeout|too_many_connections|server_not_ready)$/;

export function sqlstateOf(e: unknown): string | undefined {
  for (let cur: unknown = e, i = 0; cur && i < 5; cur = (cur as { cause?: unknown }).cause, i++) {
    if (isPgError(cur)) return cur.code;
    const s = (cur as { sqlstate?: unknown }).sqlstate;
    if (typeof s === 'string') return s;
  }
  return undefined;
}

/** Is this error worth retrying on a fresh connection? Looks through `cause` chains. */
export function isTransient(e: unknown): boolean {
  for (let cur: unknown = e, i = 0; cur && i < 5; cur = (cur as { cause?: unknown }).cause, i++) {
    if (isPgError(cur)) {
      const code = cur.code;
      if (code.startsWith('08') || TRANSIENT_SQLSTATES.has(code)) return true;
      return false; // any other server error is permanent
    }
    const errno = (cur as { code?: unknown }).code;
    if (typeof errno === 'string' && TRANSIENT_ERRNO.has(errno)) return true;
    const cc = (cur as { connCause?: unknown }).connCause;
    if (typeof cc === 'string' && TRANSIENT_CONN_CAUSE.test(cc)) return true;
    const s = (cur as { sqlstate?: unknown }).sqlstate;
    if (typeof s === 'string' && (s.startsWith('08') || TRANSIENT_SQLSTATES.has(s))) return true;
    if (cur instanceof Error && TRANSIENT_TEXT.test(cur.message)) return true;
  }
  return false;
}

export interface RetryOptions {
  /** What is being retried, for events and messages, e.g. "copy public.orders#0". */
  what: string;
  retryTimeSec: number;
  events?: EventBus;
  signal?: AbortSignal;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Called before each retry (e.g. to drop broken connections). */
  onRetry?: (e: unknown, attempt: number) => void | Promise<void>;
  /** Counts retries across the run. */
  counter?: { retries: number };
  /** Errors for which this returns true are retried as transient too (e.g. a lost snapshot). */
  alsoRetry?: (e: unknown) => boolean;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(abortError(signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function abortError(signal: AbortSignal): Error {
  const r = signal.reason;
  if (r instanceof Error) return r;
  const e = new Error('interrupted');
  e.name = 'AbortError';
  return e;
}

/**
 * Run fn until it succeeds, retrying transient failures with exponential backoff and jitter
 * for at most retryTimeSec. Permanent errors are thrown as PgferryError('data');
 * transient errors outlasting the budget as PgferryError('transient').
 */
export async function withRetry<T>(o: RetryOptions, fn: (attempt: number) => Promise<T>): Promise<T> {
  const started = Date.now();
  const base = o.baseDelayMs ?? 250;
  const max = o.maxDelayMs ?? 15_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (o.signal?.aborted) throw abortError(o.signal);
      // A statement that failed because its session was lost is retried like the lost session.
      const lostSession = e instanceof StatementError && isTransient(e);
      if (e instanceof PgferryError && e.kind !== 'connect' && !lostSession) throw e;
      const transient = isTransient(e) || (o.alsoRetry?.(e) ?? false);
      const sqlstate = sqlstateOf(e);
      if (!transient) {
        if (e instanceof PgferryError) throw e;
        throw new PgferryError('data', `${o.what}: ${errorMessage(e)}${sqlstate ? ` (SQLSTATE ${sqlstate})` : ''}`, {
          cause: e,
          hint: 'fix the cause on the source or target, then run the task again: units already copied are kept',
        });
      }
      const elapsed = Date.now() - started;
      const ceiling = Math.min(max, base * 2 ** Math.min(attempt - 1, 16));
      let delay = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
      if (elapsed + delay > o.retryTimeSec * 1000) {
        const secs = Math.round(elapsed / 1000);
        const gaveUp = `${o.what}: gave up after ${attempt} attempt(s) in ${secs}s: ${errorMessage(e)}`;
        throw new PgferryError('transient', gaveUp, {
          cause: e,
          hint:
            'the source or target kept failing transiently; check it is up and accepting connections, ' +
            'raise copy.retryTimeSec, and run the task again to resume',
        });
      }
      delay = Math.max(delay, 1);
      if (o.counter) o.counter.retries++;
      const error = errorMessage(e);
      const code = sqlstate ? { sqlstate } : {};
      o.events?.emit({ type: 'retry', what: o.what, attempt, delayMs: delay, error, ...code });
      await o.onRetry?.(e, attempt);
      await sleep(delay, o.signal);
    }
  }
}

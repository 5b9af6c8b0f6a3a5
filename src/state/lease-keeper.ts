/**
 * Keeping a lease while a task runs: renewed every third of its time to live; when a renewal fails
 * (lost to another claimant, or the store unreachable until it expired) `lost` aborts, so the run
 * can stop before it works on a task it no longer owns.
 */
import type { Lease, TaskStore } from './store.js';

export interface LeaseKeeper {
  /** The lease as last renewed. */
  readonly current: Lease;
  /** Aborted, with the reason, when the lease is lost. */
  readonly lost: AbortSignal;
  /** Stop renewing and release the lease. */
  stop(): Promise<void>;
}

export function keepLease(store: TaskStore, lease: Lease, ttlMs: number): LeaseKeeper {
  const ac = new AbortController();
  let current = lease;
  let renewing: Promise<void> = Promise.resolve();
  const renew = async () => {
    try {
      current = await store.renew(current, ttlMs);
    } catch (e) {
      if (Date.parse(current.expiresAt) <= Date.now() || (e as { kind?: string }).kind === 'state') {
        clearInterval(timer);
        ac.abort(e);
      } // else: a passing failure; the next renewal may succeed before expiry
    }
  };
  const timer = setInterval(
    () => {
      renewing = renewing.then(renew);
    },
    Math.max(10, Math.floor(ttlMs / 3)),
  );
  timer.unref();
  return {
    get current() {
      return current;
    },
    lost: ac.signal,
    async stop() {
      clearInterval(timer);
      await renewing;
      if (!ac.signal.aborted) await store.release(current);
    },
  };
}

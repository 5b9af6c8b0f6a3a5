/** What the parts of one data-stage run share: options, retry settings, the first failure. */
import type { RetryOptions } from '../../../pg/retry.js';
import type { CopyOptions } from './types.js';

/** The first failure of the run; listeners (the unit pump, idle index sessions) wake on it. */
export class Failure {
  error: unknown;
  failed = false;
  private listeners: (() => void)[] = [];

  set(e: unknown): void {
    if (!this.failed) {
      this.failed = true;
      this.error = e;
    }
    for (const l of this.listeners) l();
  }

  onFail(fn: () => void): void {
    this.listeners.push(fn);
  }
}

export type RetryBase = Omit<RetryOptions, 'what'> & { counter: { retries: number } };

export interface Stage {
  o: CopyOptions;
  retryBase: RetryBase;
  failure: Failure;
}

export function newStage(o: CopyOptions): Stage {
  const counter = { retries: 0 };
  return {
    o,
    retryBase: { retryTimeSec: o.copy.retryTimeSec, events: o.events, signal: o.signal, counter },
    failure: new Failure(),
  };
}

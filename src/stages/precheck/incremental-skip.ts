/** The incremental.* items check incremental tasks (`--incremental`); other tasks pass them, nothing to check. */
import type { Ctx, Outcome } from './types.js';

export function notIncremental(ctx: Ctx): Outcome | undefined {
  return ctx.task.incremental ? undefined : { result: 'passed', message: 'not an incremental task: nothing to check' };
}

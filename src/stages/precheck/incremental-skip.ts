/** The incremental.* items check only incremental tasks (`--incremental`); other tasks skip them. */
import type { Ctx, Outcome } from './types.js';

export function notIncremental(ctx: Ctx): Outcome | undefined {
  return ctx.task.incremental ? undefined : { result: 'skipped', message: 'not an incremental task' };
}

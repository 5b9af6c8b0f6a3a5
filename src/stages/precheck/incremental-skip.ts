/**
 * The incremental.* items check incremental tasks (`--incremental`); other tasks pass them, nothing
 * to check. `incrementalCheck` builds such an item from its definition.
 */
import type { CheckDef, Ctx, Outcome } from './types.js';

export function notIncremental(ctx: Ctx): Outcome | undefined {
  return ctx.task.incremental ? undefined : { result: 'passed', message: 'not an incremental task: nothing to check' };
}

/** An incremental.* item: `run` is called for incremental tasks only. */
export function incrementalCheck(def: CheckDef): CheckDef {
  return { ...def, run: async (ctx) => notIncremental(ctx) ?? def.run(ctx) };
}

/** Casts: with a selected schema among those of their types and function, or global ones without a filter. */
import type { DdlContext } from '../context.js';

export function casts(ctx: DdlContext): void {
  for (const c of ctx.m.casts) {
    const what = `cast (${c.source} AS ${c.target})`;
    if (c.schemas.length ? !c.schemas.some((s) => ctx.sel.schemaSelected(s)) : !ctx.globals) continue;
    const sig = `(${ctx.rw(c.source, what)} AS ${ctx.rw(c.target, what)})`;
    ctx.names.set(c.id, `cast ${sig}`);
    const how =
      c.method === 'i'
        ? 'WITH INOUT'
        : c.method === 'b'
          ? 'WITHOUT FUNCTION'
          : `WITH FUNCTION ${ctx.rw(c.func!, what)}`;
    const cx = c.context === 'a' ? ' AS ASSIGNMENT' : c.context === 'i' ? ' AS IMPLICIT' : '';
    ctx.add(
      c.id,
      'cast',
      `cast (${c.source} AS ${c.target})`,
      sig,
      `CREATE CAST ${sig} ${how}${cx};` + ctx.comment(`CAST ${sig}`, c.comment),
      `DROP CAST IF EXISTS ${sig} CASCADE;`,
    );
  }
}

/** Rules on selected tables and views, as the server prints them (names mapped). */
import { quoteIdent } from '../../../../core/ident.js';
import { tableKey } from '../../../../core/selection.js';
import type { DdlContext } from '../context.js';

export function rules(ctx: DdlContext): void {
  for (const r of ctx.m.rules) {
    const rel = ctx.relName(r.tableId);
    if (!rel?.selected) continue;
    const n = ctx.tq(rel.obj);
    ctx.add(
      r.id,
      'rule',
      `rule ${tableKey(rel.obj.schema, rel.obj.name)}.${quoteIdent(r.name)}`,
      `${quoteIdent(r.name)} ON ${n}`,
      ctx.rw(r.def.trim().replace(/;\s*$/, ''), `rule ${r.name} on ${n}`, ctx.colMaps.get(r.tableId)) +
        ';' +
        ctx.comment(`RULE ${quoteIdent(r.name)} ON ${n}`, r.comment),
      `DROP RULE IF EXISTS ${quoteIdent(r.name)} ON ${n};`,
    );
  }
}

/** Materialized views populated on the source: REFRESH after the data, then their indexes, in creation order. */
import { qualify } from '../../../../core/ident.js';
import type { Statement } from '../../../../core/statement.js';
import type { DdlContext, PreNode } from '../context.js';

export function matviewRefresh(ctx: DdlContext, ordered: PreNode[], mviewIdx: Map<string, Statement[]>): void {
  const keptIds = new Set(ordered.map((p) => p.id));
  const order = new Map(ordered.map((p, i) => [p.id, i]));
  const mviews = ctx.m.views
    .filter((v) => v.relkind === 'm' && ctx.sel.schemaSelected(v.schema) && keptIds.has(v.id))
    .sort((a, b) => order.get(a.id)! - order.get(b.id)!);
  for (const v of mviews) {
    const n = ctx.q(v.schema, v.name);
    if (v.populated)
      ctx.late.push({
        key: `refresh ${qualify(v.schema, v.name)}`,
        kind: 'refresh materialized view',
        name: n,
        section: 'late',
        sql: `REFRESH MATERIALIZED VIEW ${n};`,
      });
    ctx.late.push(...(mviewIdx.get(v.id) ?? []));
  }
}

/** Extended statistics objects (left out when they use a column the column subset leaves out). */
import { qualify } from '../../../../core/ident.js';
import type { DdlContext } from '../context.js';

export function statistics(ctx: DdlContext): void {
  for (const s of ctx.m.statistics) {
    if (!ctx.sel.schemaSelected(s.schema)) continue;
    const n = ctx.q(s.schema, s.name);
    ctx.names.set(s.id, n);
    if (ctx.leftOut(s.tableId, 'statistics object', n, s.def.replace(/^CREATE STATISTICS \S+/, ''))) {
      ctx.unmigrated.set(s.id, 'column subset');
      continue;
    }
    let sql = ctx.rw(s.def, `statistics ${n}`, ctx.colMaps.get(s.tableId)) + ';';
    if (s.statTarget != null) sql += `\nALTER STATISTICS ${n} SET STATISTICS ${s.statTarget};`;
    ctx.add(
      s.id,
      'statistics object',
      `statistics object ${qualify(s.schema, s.name)}`,
      n,
      sql + ctx.owner('STATISTICS', n, s.owner) + ctx.comment(`STATISTICS ${n}`, s.comment),
      `DROP STATISTICS IF EXISTS ${n};`,
    );
  }
}

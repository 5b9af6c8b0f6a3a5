/** Triggers (late: after all data, so the copy does not fire them), with their enabled state. */
import { quoteIdent } from '../../../../core/ident.js';
import { tableKey } from '../../../../core/selection.js';
import type { DdlContext } from '../context.js';

const ENABLED: Record<string, string> = {
  D: 'DISABLE TRIGGER',
  R: 'ENABLE REPLICA TRIGGER',
  A: 'ENABLE ALWAYS TRIGGER',
};

export function triggers(ctx: DdlContext, keptIds: Set<string>): void {
  for (const tg of ctx.m.triggers) {
    const rel = ctx.relName(tg.tableId);
    if (!rel?.selected || !keptIds.has(tg.tableId)) continue;
    const n = ctx.tq(rel.obj);
    const head = tg.def.replace(/ EXECUTE (FUNCTION|PROCEDURE) [\s\S]*$/, '');
    if (ctx.leftOut(tg.tableId, 'trigger', `${quoteIdent(tg.name)} ON ${n}`, head)) continue;
    const what = `trigger ${tg.name} on ${n}`;
    let sql = ctx.rw(tg.def, what, ctx.colMaps.get(tg.tableId)) + ';';
    const en = ENABLED[tg.enabled];
    if (en) sql += `\nALTER TABLE ${n} ${en} ${quoteIdent(tg.name)};`;
    sql += ctx.comment(`TRIGGER ${quoteIdent(tg.name)} ON ${n}`, tg.comment);
    ctx.late.push({
      key: `trigger ${tableKey(rel.obj.schema, rel.obj.name)}.${quoteIdent(tg.name)}`,
      kind: 'trigger',
      name: `${quoteIdent(tg.name)} ON ${n}`,
      section: 'late',
      sql,
      drop: `DROP TRIGGER IF EXISTS ${quoteIdent(tg.name)} ON ${n};`,
    });
  }
}

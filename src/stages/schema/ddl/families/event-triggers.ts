/** Event triggers (global; last of all, since they would fire on pgferry's own DDL). */
import { quoteIdent, quoteLiteral } from '../../../../core/ident.js';
import { GLOBAL_REASON, type DdlContext } from '../context.js';

const ENABLED: Record<string, string> = { D: 'DISABLE', R: 'ENABLE REPLICA', A: 'ENABLE ALWAYS' };

export function eventTriggers(ctx: DdlContext, keptIds: Set<string>): void {
  for (const e of ctx.m.eventTriggers) {
    const n = quoteIdent(e.name);
    if (!ctx.globals) {
      ctx.notMigrated.push({ kind: 'event trigger', name: n, reason: GLOBAL_REASON });
      continue;
    }
    if (!keptIds.has(e.funcId)) {
      ctx.notMigrated.push({ kind: 'event trigger', name: n, reason: `its function ${e.func} is not migrated` });
      continue;
    }
    const tags = e.tags?.length ? `\n    WHEN TAG IN (${e.tags.map(quoteLiteral).join(', ')})` : '';
    let sql = `CREATE EVENT TRIGGER ${n} ON ${quoteIdent(e.event)}${tags}\n    EXECUTE FUNCTION ${ctx.rw(e.func, `event trigger ${n}`)}();`;
    const en = ENABLED[e.enabled];
    if (en) sql += `\nALTER EVENT TRIGGER ${n} ${en};`;
    sql +=
      ctx.superuserOwner('EVENT TRIGGER', n, e.owner, `event trigger ${n}`) +
      ctx.comment(`EVENT TRIGGER ${n}`, e.comment);
    ctx.late.push({
      key: `event trigger ${n}`,
      kind: 'event trigger',
      name: n,
      section: 'late',
      sql,
      drop: `DROP EVENT TRIGGER IF EXISTS ${n};`,
    });
  }
}

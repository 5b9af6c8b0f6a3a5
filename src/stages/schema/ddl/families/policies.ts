/** Row-level security policies (the tables' ENABLE/FORCE ROW LEVEL SECURITY is in ./tables.ts). */
import { quoteIdent } from '../../../../core/ident.js';
import { tableKey } from '../../../../core/selection.js';
import type { DdlContext } from '../context.js';

const CMD: Record<string, string> = { r: 'SELECT', a: 'INSERT', w: 'UPDATE', d: 'DELETE', '*': 'ALL' };

export function policies(ctx: DdlContext): void {
  for (const p of ctx.m.policies) {
    const rel = ctx.relName(p.tableId);
    if (!rel?.selected) continue;
    const n = ctx.tq(rel.obj);
    if (ctx.leftOut(p.tableId, 'policy', `${quoteIdent(p.name)} ON ${n}`, p.qual, p.withCheck)) continue;
    const what = `policy ${p.name} on ${n}`;
    const cm = ctx.colMaps.get(p.tableId);
    let sql = `CREATE POLICY ${quoteIdent(p.name)} ON ${n}${p.permissive ? '' : ' AS RESTRICTIVE'} FOR ${CMD[p.cmd]}`;
    sql += ` TO ${p.roles.map((r) => (r === '' ? 'PUBLIC' : quoteIdent(r))).join(', ')}`;
    if (p.qual != null) sql += ` USING (${ctx.rw(p.qual, what, cm)})`;
    if (p.withCheck != null) sql += ` WITH CHECK (${ctx.rw(p.withCheck, what, cm)})`;
    sql += ';' + ctx.comment(`POLICY ${quoteIdent(p.name)} ON ${n}`, p.comment);
    ctx.add(
      p.id,
      'policy',
      `policy ${tableKey(rel.obj.schema, rel.obj.name)}.${quoteIdent(p.name)}`,
      `${quoteIdent(p.name)} ON ${n}`,
      sql,
      `DROP POLICY IF EXISTS ${quoteIdent(p.name)} ON ${n};`,
    );
  }
}

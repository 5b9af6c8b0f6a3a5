/** Publications (global: only without an includeSchemas filter), with their tables and schemas. */
import { qualify, quoteIdent, quoteLiteral } from '../../../../core/ident.js';
import type { PublicationObj } from '../../catalog/model.js';
import { GLOBAL_REASON, type DdlContext } from '../context.js';

export function publications(ctx: DdlContext, keptIds: Set<string>): void {
  for (const p of ctx.m.publications) {
    const n = quoteIdent(p.name);
    if (!ctx.globals) {
      ctx.notMigrated.push({ kind: 'publication', name: n, reason: GLOBAL_REASON });
      continue;
    }
    const w = [`publish = ${quoteLiteral(p.publish.join(', '))}`];
    if (p.viaRoot) w.push('publish_via_partition_root = true');
    let sql = `CREATE PUBLICATION ${n}${p.allTables ? ' FOR ALL TABLES' : ''} WITH (${w.join(', ')});`;
    sql += publicationTables(ctx, p, n, keptIds) + publicationSchemas(ctx, p, n);
    sql += ctx.owner('PUBLICATION', n, p.owner) + ctx.comment(`PUBLICATION ${n}`, p.comment);
    ctx.late.push({
      key: `publication ${n}`,
      kind: 'publication',
      name: n,
      section: 'late',
      sql,
      drop: `DROP PUBLICATION IF EXISTS ${n};`,
    });
  }
}

function publicationTables(ctx: DdlContext, p: PublicationObj, n: string, keptIds: Set<string>): string {
  let sql = '';
  for (const t of p.tables) {
    const tt = ctx.selTables.get(t.id);
    const tname = `${qualify(t.schema, t.name)} in publication ${n}`;
    if (!tt || !keptIds.has(t.id)) {
      ctx.notMigrated.push({ kind: 'publication table', name: tname, reason: 'the table is not selected' });
      continue;
    }
    const what = `publication ${n}`;
    if (ctx.leftOut(t.id, 'publication table', tname, t.where, ...(t.columns ?? []).map(quoteIdent))) continue;
    const cols = t.columns
      ? ` (${t.columns.map((c) => quoteIdent(ctx.sel.targetColumn(tt.schema, tt.name, c))).join(', ')})`
      : '';
    const where = t.where != null ? ` WHERE (${ctx.rw(t.where, what, ctx.colMaps.get(t.id))})` : '';
    sql += `\nALTER PUBLICATION ${n} ADD TABLE ONLY ${ctx.tq(tt)}${cols}${where};`;
  }
  return sql;
}

function publicationSchemas(ctx: DdlContext, p: PublicationObj, n: string): string {
  let sql = '';
  for (const s of p.schemas) {
    if (!ctx.sel.schemaSelected(s)) {
      ctx.notMigrated.push({
        kind: 'publication schema',
        name: `${quoteIdent(s)} in publication ${n}`,
        reason: 'the schema is not selected',
      });
      continue;
    }
    sql += `\nALTER PUBLICATION ${n} ADD TABLES IN SCHEMA ${quoteIdent(ctx.sel.targetSchema(s))};`;
  }
  return sql;
}

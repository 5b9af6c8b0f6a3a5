/**
 * Views and materialized views (WITH NO DATA; ./matviews.ts refreshes them after the data), and
 * warnings for views over tables copied with a column subset or renamed columns (view text is not
 * rewritten for columns).
 */
import { qualify, quoteIdent } from '../../../../core/ident.js';
import type { DdlContext } from '../context.js';
import { relOption } from '../util.js';

export function views(ctx: DdlContext): void {
  for (const v of ctx.m.views) {
    if (!ctx.sel.schemaSelected(v.schema)) continue;
    const n = ctx.q(v.schema, v.name);
    const kind = v.relkind === 'm' ? 'materialized view' : 'view';
    const kw = kind.toUpperCase();
    const opts = v.options?.length ? ` WITH (${v.options.map(relOption).join(', ')})` : '';
    const def = ctx.rw(v.def.trim().replace(/;\s*$/, ''), `${kind} ${n}`);
    let sql = `CREATE ${kw} ${n}${opts} AS\n${def}${v.relkind === 'm' ? '\nWITH NO DATA' : ''};`;
    sql += ctx.owner(kw, n, v.owner) + ctx.comment(`${kw} ${n}`, v.comment);
    for (const c of v.columnComments) sql += ctx.comment(`COLUMN ${n}.${quoteIdent(c.name)}`, c.comment);
    sql += ctx.grants('TABLE', n, v.acl, v.owner);
    ctx.add(v.id, kind, `${kind} ${qualify(v.schema, v.name)}`, n, sql, `DROP ${kw} IF EXISTS ${n} CASCADE;`);
  }
  viewWarnings(ctx);
}

/** Views over tables with a column subset or renamed columns cannot be rewritten safely. */
function viewWarnings(ctx: DdlContext): void {
  const { m, sel } = ctx;
  for (const d of m.dependencies) {
    const v = ctx.viewsById.get(d.from);
    const t = ctx.tablesById.get(d.to);
    if (v && t && ctx.selTables.has(t.id) && sel.schemaSelected(v.schema) && ctx.omitted(t.id).length) {
      ctx.warnings.push(
        `view ${ctx.q(v.schema, v.name)}: reads table ${ctx.tq(t)}, which is copied with a column subset; the view fails if it uses a left-out column`,
      );
    }
  }
  if (!ctx.colMaps.size) return;
  for (const d of m.dependencies) {
    const v = ctx.viewsById.get(d.from);
    if (v && ctx.colMaps.has(d.to) && sel.schemaSelected(v.schema)) {
      ctx.warnings.push(
        `view ${ctx.q(v.schema, v.name)}: refers to table ${ctx.tq(ctx.tablesById.get(d.to)!)} whose columns are renamed; the view text is not rewritten`,
      );
    }
  }
}

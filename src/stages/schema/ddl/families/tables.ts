/**
 * Tables: CREATE TABLE with columns (./columns.ts) and CHECK constraints, partitions (PARTITION OF …
 * FOR VALUES), inheritance (INHERITS, or ALTER … INHERIT for children in their own column order),
 * storage parameters, row-level security, owner, comments and grants (table and column).
 */
import { quoteIdent } from '../../../../core/ident.js';
import { tableKey } from '../../../../core/selection.js';
import type { DdlContext } from '../context.js';
import { needsOwnColumnOrder } from '../inherit-order.js';
import { relOption } from '../util.js';
import { columnItems, columnSettings, functionDefaults, keptColumns, type TableGen } from './columns.js';

export function tables(ctx: DdlContext): void {
  for (const t of ctx.selTables.values()) {
    const n = ctx.tq(t);
    const g: TableGen = {
      t,
      n,
      what: `table ${n}`,
      cm: ctx.colMaps.get(t.id),
      cols: keptColumns(ctx, t, n),
      ownOrder: needsOwnColumnOrder(t, ctx.tablesById),
      tcol: (c) => quoteIdent(ctx.sel.targetColumn(t.schema, t.name, c.name)),
    };
    const sql = createTable(ctx, g) + tableTail(ctx, g);
    ctx.add(t.id, 'table', `table ${tableKey(t.schema, t.name)}`, n, sql, `DROP TABLE IF EXISTS ${n} CASCADE;`);
    functionDefaults(ctx, g);
  }
}

/** CREATE TABLE, then what it cannot say: NOT VALID checks, inherited column changes, INHERIT. */
function createTable(ctx: DdlContext, g: TableGen): string {
  const { t, n, what, cm } = g;
  const items: string[] = [];
  const after: string[] = [];
  columnItems(ctx, g, items, after);
  checks(ctx, g, items, after);
  const body = items.length ? ` (\n    ${items.join(',\n    ')}\n)` : t.isPartition ? '' : ' (\n)';
  const opts = t.options?.length ? ` WITH (${t.options.map(relOption).join(', ')})` : '';
  const pkey = t.partKey ? ` PARTITION BY ${ctx.rw(t.partKey, what, cm)}` : '';
  const create = `CREATE ${t.unlogged ? 'UNLOGGED ' : ''}TABLE ${n}`;
  let sql: string;
  if (t.isPartition) {
    sql = `${create} PARTITION OF ${ctx.tq(t.parents[0])}${body}\n${ctx.rw(t.partBound!, what, cm)}${pkey}${opts};`;
  } else {
    const inh = t.parents.length && !g.ownOrder ? ` INHERITS (${t.parents.map((p) => ctx.tq(p)).join(', ')})` : '';
    sql = `${create}${body}${inh}${pkey}${opts};`;
  }
  if (after.length) sql += '\n' + after.join('\n');
  if (g.ownOrder) for (const p of t.parents) sql += `\nALTER TABLE ONLY ${n} INHERIT ${ctx.tq(p)};`;
  return sql;
}

/** CHECK constraints: validated ones in CREATE TABLE, NOT VALID ones added after it. */
function checks(ctx: DdlContext, g: TableGen, items: string[], after: string[]): void {
  const { t, n } = g;
  for (const k of t.checks) {
    if ((!k.isLocal && !g.ownOrder) || ctx.leftOut(t.id, 'check constraint', `${quoteIdent(k.name)} ON ${n}`, k.def))
      continue;
    const def = ctx.rw(k.def, g.what, g.cm);
    if (!k.validated) after.push(`ALTER TABLE ${n} ADD CONSTRAINT ${quoteIdent(k.name)} ${def};`);
    else items.push(`CONSTRAINT ${quoteIdent(k.name)} ${def}`);
  }
}

/** Column settings, row-level security, owner, comments and grants. */
function tableTail(ctx: DdlContext, g: TableGen): string {
  const { t, n } = g;
  let sql = columnSettings(g);
  if (t.rls) sql += `\nALTER TABLE ${n} ENABLE ROW LEVEL SECURITY;`;
  if (t.forceRls) sql += `\nALTER TABLE ${n} FORCE ROW LEVEL SECURITY;`;
  sql += ctx.owner('TABLE', n, t.owner) + ctx.comment(`TABLE ${n}`, t.comment);
  for (const c of g.cols) sql += ctx.comment(`COLUMN ${n}.${g.tcol(c)}`, c.comment);
  for (const k of t.checks)
    if (k.isLocal || g.ownOrder) sql += ctx.comment(`CONSTRAINT ${quoteIdent(k.name)} ON ${n}`, k.comment);
  sql += ctx.grants('TABLE', n, t.acl, t.owner);
  for (const c of g.cols) if (c.acl) sql += ctx.grants('TABLE', n, c.acl, t.owner, ` (${g.tcol(c)})`);
  return sql;
}

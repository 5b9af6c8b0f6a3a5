/**
 * A table's columns: their definitions in CREATE TABLE, what an inherited column changes from its
 * parent's (ALTER … SET NOT NULL / SET DEFAULT / DROP DEFAULT), and defaults that call functions,
 * set by their own statement once the functions exist.
 */
import { quoteIdent } from '../../../../core/ident.js';
import { tableKey } from '../../../../core/selection.js';
import type { ColumnObj, TableObj } from '../../catalog/model.js';
import { RANK, type DdlContext } from '../context.js';
import { usesColumn } from '../util.js';
import { seqOpts } from './sequences.js';

/** What a table generator needs to know about the table being generated. */
export interface TableGen {
  t: TableObj;
  /** Quoted target name. */
  n: string;
  what: string;
  cm: Map<string, string> | undefined;
  /** Columns created (the column subset applied). */
  cols: ColumnObj[];
  /** Created in the source's column order, then attached to its parents (./inherit-order.ts). */
  ownOrder: boolean;
  tcol: (c: ColumnObj) => string;
}

/** Columns the column subset keeps (a generated column using a left-out one is reported). */
export function keptColumns(ctx: DdlContext, t: TableObj, n: string): ColumnObj[] {
  const subset = ctx.sel.columnSubset(t.schema, t.name);
  return t.columns.filter((c) => {
    if (subset && !subset.includes(c.name)) return false;
    if (c.generated === 's' && subset && usesColumn([c.default], ctx.omitted(t.id))) {
      ctx.notMigrated.push({
        kind: 'generated column',
        name: `${n}.${quoteIdent(c.name)}`,
        reason: 'its expression uses a column left out by the column subset',
      });
      return false;
    }
    return true;
  });
}

/** Column definitions (items) and, for inherited columns, what differs from the parent (after). */
export function columnItems(ctx: DdlContext, g: TableGen, items: string[], after: string[]): void {
  for (const c of g.cols) {
    if (!c.isLocal && !g.ownOrder) inheritedColumn(ctx, g, c, after);
    else items.push(columnDef(ctx, g, c));
  }
}

function columnDef(ctx: DdlContext, g: TableGen, c: ColumnObj): string {
  const { what, cm } = g;
  let s = `${g.tcol(c)} ${ctx.rw(c.type, what)}${ctx.collate(c.collation)}`;
  if (c.generated === 's') s += ` GENERATED ALWAYS AS (${ctx.rw(c.default!, what, cm)}) STORED`;
  else if (c.identity) {
    const seq = ctx.identitySeq.get(`${g.t.id}\u0000${c.name}`);
    s += ` GENERATED ${c.identity === 'a' ? 'ALWAYS' : 'BY DEFAULT'} AS IDENTITY`;
    if (seq) s += ` (SEQUENCE NAME ${ctx.q(seq.schema, seq.name)} ${seqOpts(seq)})`;
  } else if (c.default != null && !c.defaultHasFuncDeps) s += ` DEFAULT ${ctx.rw(c.default, what, cm)}`;
  if (c.notNull) s += ' NOT NULL';
  return s;
}

/** Inherited: comes from the parent; state only what differs. */
function inheritedColumn(ctx: DdlContext, g: TableGen, c: ColumnObj, after: string[]): void {
  const { n } = g;
  const pc = parentColumn(ctx, g.t, c);
  if (c.notNull && pc && !pc.notNull) after.push(`ALTER TABLE ONLY ${n} ALTER COLUMN ${g.tcol(c)} SET NOT NULL;`);
  if (
    c.default != null &&
    !c.defaultHasFuncDeps &&
    c.generated === '' &&
    (!pc || pc.default !== c.default || pc.defaultHasFuncDeps)
  ) {
    after.push(`ALTER TABLE ONLY ${n} ALTER COLUMN ${g.tcol(c)} SET DEFAULT ${ctx.rw(c.default, g.what, g.cm)};`);
  }
  if (c.default == null && pc?.default != null && !pc.defaultHasFuncDeps && pc.generated === '')
    after.push(`ALTER TABLE ONLY ${n} ALTER COLUMN ${g.tcol(c)} DROP DEFAULT;`);
}

function parentColumn(ctx: DdlContext, t: TableObj, c: ColumnObj): ColumnObj | undefined {
  for (const p of t.parents) {
    const pc = ctx.tablesById.get(p.id)?.columns.find((x) => x.name === c.name);
    if (pc) return pc;
  }
  return undefined;
}

const STORAGE: Record<string, string> = { p: 'PLAIN', e: 'EXTERNAL', m: 'MAIN', x: 'EXTENDED' };

/** SET STORAGE and SET STATISTICS of columns that differ from their type's default. */
export function columnSettings(g: TableGen): string {
  let sql = '';
  for (const c of g.cols) {
    if (c.storage) sql += `\nALTER TABLE ONLY ${g.n} ALTER COLUMN ${g.tcol(c)} SET STORAGE ${STORAGE[c.storage]};`;
    if (c.statTarget != null)
      sql += `\nALTER TABLE ONLY ${g.n} ALTER COLUMN ${g.tcol(c)} SET STATISTICS ${c.statTarget};`;
  }
  return sql;
}

/** Defaults calling functions: set after the functions they call (pg_depend orders them). */
export function functionDefaults(ctx: DdlContext, g: TableGen): void {
  const { t, n } = g;
  for (const c of g.cols) {
    if (c.default == null || !c.defaultHasFuncDeps || c.generated !== '') continue;
    ctx.pre.push({
      id: `default:${t.oid}:${c.num}`,
      rank: RANK.default,
      stmt: {
        key: `default ${tableKey(t.schema, t.name)}.${quoteIdent(c.name)}`,
        kind: 'default',
        name: `${n}.${g.tcol(c)}`,
        section: 'pre',
        sql: `ALTER TABLE ONLY ${n} ALTER COLUMN ${g.tcol(c)} SET DEFAULT ${ctx.rw(c.default, g.what, g.cm)};`,
      },
    });
  }
}

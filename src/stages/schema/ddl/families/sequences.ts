/**
 * Sequences that are not identity sequences (those come with their column, ./tables.ts), and
 * `ALTER SEQUENCE … OWNED BY` for those owned by a selected column.
 */
import { qualify, quoteIdent } from '../../../../core/ident.js';
import type { SequenceObj } from '../../catalog/model.js';
import { RANK, type DdlContext } from '../context.js';

export const seqOpts = (s: SequenceObj): string =>
  `START WITH ${s.start} INCREMENT BY ${s.increment} MINVALUE ${s.min} MAXVALUE ${s.max} CACHE ${s.cache}${s.cycle ? ' CYCLE' : ' NO CYCLE'}`;

export function sequences(ctx: DdlContext): void {
  const { sel } = ctx;
  for (const s of ctx.m.sequences) {
    if (s.identityOf) continue;
    if (!sel.schemaSelected(s.schema)) continue;
    // a sequence owned by a table that is not selected stays behind with its table (as plan/sequences.ts)
    if (s.ownedBy && !ctx.selTables.has(s.ownedBy.tableId)) continue;
    const n = ctx.q(s.schema, s.name);
    ctx.add(
      s.id,
      'sequence',
      `sequence ${qualify(s.schema, s.name)}`,
      n,
      `CREATE ${s.unlogged ? 'UNLOGGED ' : ''}SEQUENCE ${n} AS ${s.type} ${seqOpts(s)};` +
        ctx.owner('SEQUENCE', n, s.owner) +
        ctx.comment(`SEQUENCE ${n}`, s.comment) +
        ctx.grants('SEQUENCE', n, s.acl, s.owner),
      `DROP SEQUENCE IF EXISTS ${n} CASCADE;`,
    );
    ownedBy(ctx, s, n);
  }
}

function ownedBy(ctx: DdlContext, s: SequenceObj, n: string): void {
  if (!s.ownedBy) return;
  const t = ctx.selTables.get(s.ownedBy.tableId);
  const subset = t && ctx.sel.columnSubset(t.schema, t.name);
  if (!t || (subset && !subset.includes(s.ownedBy.column))) return;
  const col = quoteIdent(ctx.sel.targetColumn(t.schema, t.name, s.ownedBy.column));
  ctx.pre.push({
    id: `owned:${s.oid}`,
    rank: RANK['sequence owned by'],
    stmt: {
      key: `sequence owned by ${qualify(s.schema, s.name)}`,
      kind: 'sequence owned by',
      name: n,
      section: 'pre',
      sql: `ALTER SEQUENCE ${n} OWNED BY ${ctx.tq(t)}.${col};`,
    },
  });
}

/**
 * Types: enum, composite, range and base types (a base type as a shell first: its I/O functions take
 * or return it, and the full type names them — catalog/basetypes.ts). Domains: ./domains.ts.
 */
import { qualify, quoteIdent, quoteLiteral } from '../../../../core/ident.js';
import type { TypeObj } from '../../catalog/model.js';
import { shellId } from '../../catalog/basetypes.js';
import { baseTypeSql } from '../basetype.js';
import type { DdlContext } from '../context.js';
import { domainSql } from './domains.js';

export function types(ctx: DdlContext): void {
  for (const t of ctx.m.types) {
    if (!ctx.sel.schemaSelected(t.schema)) continue;
    if (t.kind === 'range' && t.range?.canonical) continue; // reported by the catalog
    const n = ctx.q(t.schema, t.name);
    if (t.kind === 'base')
      ctx.add(
        shellId(t),
        'shell type',
        `shell type ${qualify(t.schema, t.name)}`,
        n,
        `CREATE TYPE ${n};`,
        `DROP TYPE IF EXISTS ${n} CASCADE;`,
      );
    const kw = t.kind === 'domain' ? 'DOMAIN' : 'TYPE';
    const sql =
      typeSql(ctx, t, n) +
      ctx.owner(kw, n, t.owner) +
      ctx.comment(`${kw} ${n}`, t.comment) +
      ctx.grants(kw, n, t.acl, t.owner);
    const kind = t.kind === 'domain' ? 'domain' : 'type';
    const drop = t.kind === 'base' ? undefined : `DROP ${kw} IF EXISTS ${n} CASCADE;`;
    ctx.add(t.id, kind, `${kind} ${qualify(t.schema, t.name)}`, n, sql, drop);
  }
}

function typeSql(ctx: DdlContext, t: TypeObj, n: string): string {
  const what = `type ${n}`;
  const rw = (x: string) => ctx.rw(x, what);
  if (t.kind === 'base') return baseTypeSql(n, t.base!, rw);
  if (t.kind === 'enum') return `CREATE TYPE ${n} AS ENUM (${t.labels!.map(quoteLiteral).join(', ')});`;
  if (t.kind === 'composite')
    return `CREATE TYPE ${n} AS (${t.attrs!.map((a) => `\n    ${quoteIdent(a.name)} ${rw(a.type)}${ctx.collate(a.collation)}`).join(',')}\n);`;
  if (t.kind === 'range') {
    const r = t.range!;
    const parts = [`SUBTYPE = ${rw(r.subtype)}`];
    if (r.opclass) parts.push(`SUBTYPE_OPCLASS = ${rw(r.opclass)}`);
    if (r.collation) parts.push(`COLLATION = ${ctx.q(r.collation[0], r.collation[1])}`);
    if (r.subdiff) parts.push(`SUBTYPE_DIFF = ${rw(r.subdiff)}`);
    if (r.multirange && !r.defaultMultirange) parts.push(`MULTIRANGE_TYPE_NAME = ${ctx.q(t.schema, r.multirange)}`);
    return `CREATE TYPE ${n} AS RANGE (${parts.join(', ')});`;
  }
  return domainSql(ctx, t, n, what);
}

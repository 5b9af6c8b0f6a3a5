/** Collations (libc, ICU, builtin providers) and encoding conversions. */
import { qualify, quoteLiteral } from '../../../../core/ident.js';
import type { DdlContext } from '../context.js';

const PROVIDER: Record<string, string> = { c: 'libc', i: 'icu', b: 'builtin' };

export function collations(ctx: DdlContext): void {
  for (const c of ctx.m.collations) {
    if (!ctx.sel.schemaSelected(c.schema)) continue;
    const n = ctx.q(c.schema, c.name);
    ctx.names.set(c.id, n);
    const p = [`provider = ${PROVIDER[c.provider] ?? 'libc'}`];
    if (!c.deterministic) p.push('deterministic = false');
    if (c.provider === 'c') {
      if (c.lcCollate === c.lcCtype) p.push(`locale = ${quoteLiteral(c.lcCollate ?? '')}`);
      else p.push(`lc_collate = ${quoteLiteral(c.lcCollate ?? '')}`, `lc_ctype = ${quoteLiteral(c.lcCtype ?? '')}`);
    } else p.push(`locale = ${quoteLiteral(c.locale ?? c.lcCollate ?? '')}`);
    if (c.rules != null) p.push(`rules = ${quoteLiteral(c.rules)}`);
    ctx.add(
      c.id,
      'collation',
      `collation ${qualify(c.schema, c.name)}`,
      n,
      `CREATE COLLATION ${n} (${p.join(', ')});` +
        ctx.owner('COLLATION', n, c.owner) +
        ctx.comment(`COLLATION ${n}`, c.comment),
      `DROP COLLATION IF EXISTS ${n} CASCADE;`,
    );
  }
}

export function conversions(ctx: DdlContext): void {
  for (const c of ctx.m.conversions) {
    if (!ctx.sel.schemaSelected(c.schema)) continue;
    const n = ctx.q(c.schema, c.name);
    ctx.names.set(c.id, n);
    ctx.add(
      c.id,
      'conversion',
      `conversion ${qualify(c.schema, c.name)}`,
      n,
      `CREATE ${c.isDefault ? 'DEFAULT ' : ''}CONVERSION ${n} FOR ${quoteLiteral(c.forEncoding)} TO ${quoteLiteral(c.toEncoding)} FROM ${ctx.rw(c.proc, `conversion ${n}`)};` +
        ctx.owner('CONVERSION', n, c.owner) +
        ctx.comment(`CONVERSION ${n}`, c.comment),
      `DROP CONVERSION IF EXISTS ${n};`,
    );
  }
}

/** Domains: CREATE DOMAIN with its validated checks; checks NOT VALID on the source are added after it. */
import { quoteIdent } from '../../../../core/ident.js';
import type { TypeObj } from '../../catalog/model.js';
import type { DdlContext } from '../context.js';

export function domainSql(ctx: DdlContext, t: TypeObj, n: string, what: string): string {
  const d = t.domain!;
  const rw = (x: string) => ctx.rw(x, what);
  let sql = `CREATE DOMAIN ${n} AS ${rw(d.base)}${ctx.collate(d.collation)}${d.default != null ? ` DEFAULT ${rw(d.default)}` : ''}${d.notNull ? ' NOT NULL' : ''}`;
  const later: string[] = [];
  for (const c of d.checks) {
    if (c.validated) sql += `\n    CONSTRAINT ${quoteIdent(c.name)} ${rw(c.def)}`;
    else later.push(`\nALTER DOMAIN ${n} ADD CONSTRAINT ${quoteIdent(c.name)} ${rw(c.def)};`);
  }
  return (
    sql +
    ';' +
    later.join('') +
    d.checks.map((c) => ctx.comment(`CONSTRAINT ${quoteIdent(c.name)} ON DOMAIN ${n}`, c.comment)).join('')
  );
}

/** Schemas: CREATE SCHEMA IF NOT EXISTS with owner, comment and grants. */
import { quoteIdent } from '../../../../core/ident.js';
import type { DdlContext } from '../context.js';

export function schemas(ctx: DdlContext): void {
  const { m, sel, task } = ctx;
  /** Schema public keeps the target's owner when the source's is its default (bootstrap superuser, pg_database_owner). */
  const defaultOwner = (s: { name: string; owner: string }) =>
    s.name === 'public' && (s.owner === 'pg_database_owner' || s.owner === m.bootstrapUser);
  const schemaAuth = (s: { name: string; owner: string }) =>
    task.noOwner || defaultOwner(s) ? '' : ` AUTHORIZATION ${quoteIdent(task.ownerTo ?? s.owner)}`;
  for (const s of m.schemas.filter((x) => sel.schemaSelected(x.name))) {
    const n = quoteIdent(sel.targetSchema(s.name));
    ctx.add(
      s.id,
      'schema',
      `schema ${quoteIdent(s.name)}`,
      n,
      // AUTHORIZATION: the owner needs no CREATE on the database, only the account does.
      `CREATE SCHEMA IF NOT EXISTS ${n}${schemaAuth(s)};` +
        (defaultOwner(s) ? '' : ctx.owner('SCHEMA', n, s.owner)) +
        ctx.comment(`SCHEMA ${n}`, s.comment) +
        ctx.grants('SCHEMA', n, s.acl, s.owner),
    );
  }
}

/**
 * incremental.publication: CREATE PUBLICATION … FOR TABLE needs CREATE on the source database and
 * ownership (membership in the owner) of every selected table.
 */
import { incrementalCheck } from './incremental-skip.js';
import { failed, passed } from './types.js';

export const incrementalPublication = incrementalCheck({
  id: 'incremental.publication',
  title: 'Privileges to create the publication',
  level: 'error',
  needs: ['source', 'model'],
  async run(ctx) {
    const c = ctx.source!;
    const db = await c.query<{ ok: boolean; db: string; user: string }>(
      `SELECT has_database_privilege(current_database(), 'CREATE') AS ok, current_database() AS db,
              current_user AS user`,
    );
    const { ok, db: dbName, user } = db.rows[0];
    const tables = ctx.model!.tables.filter((t) => t.kind === 'r');
    const owners = await c.query<{ owner: string; member: boolean }>(
      "SELECT o AS owner, pg_catalog.pg_has_role(current_user, o, 'USAGE') AS member FROM unnest($1::text[]) o",
      [[...new Set(tables.map((t) => t.owner))]],
    );
    const notMember = new Set(owners.rows.filter((r) => !r.member).map((r) => r.owner));
    const notOwned = tables.filter((t) => notMember.has(t.owner)).map((t) => `${t.key} (owner ${t.owner})`);
    if (ok && !notOwned.length) return passed(`${user} may create the task's publication`);
    const why = [!ok ? 'no CREATE on the database' : '', notOwned.length ? 'tables it does not own' : ''];
    const fixes: string[] = [];
    if (!ok) fixes.push(`GRANT CREATE ON DATABASE ${dbName} TO ${user};`);
    if (notOwned.length)
      fixes.push(`GRANT <owner> TO ${user}; for each owner listed (or create the publication as them)`);
    return failed(
      `${user} cannot create the publication: ${why.filter(Boolean).join(', ')}`,
      notOwned,
      `on the source: ${fixes.join(' ')}`,
    );
  },
});

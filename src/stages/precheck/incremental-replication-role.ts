/**
 * incremental.replication-role: the source account may open a replication session and create a
 * slot — the REPLICATION attribute, a superuser, or a managed service's replication role.
 */
import { incrementalCheck } from './incremental-skip.js';
import { failed, passed } from './types.js';

/** Roles managed services grant instead of REPLICATION. */
const MANAGED_ROLES = ['rds_replication', 'cloudsqlsuperuser', 'azure_pg_admin', 'alloydbsuperuser'];

export const incrementalReplicationRole = incrementalCheck({
  id: 'incremental.replication-role',
  title: 'Replication privilege of the source account',
  level: 'error',
  needs: ['source'],
  async run(ctx) {
    const r = await ctx.source!.query<{ user: string; ok: boolean; via: string | null }>(
      `SELECT current_user AS user, (r.rolreplication OR r.rolsuper) AS ok,
              (SELECT m.rolname FROM pg_catalog.pg_roles m
                WHERE m.rolname = ANY ($1::text[])
                  AND pg_catalog.pg_has_role(current_user, m.oid, 'MEMBER') LIMIT 1) AS via
         FROM pg_catalog.pg_roles r WHERE r.rolname = current_user`,
      [MANAGED_ROLES],
    );
    const row = r.rows[0];
    if (row.ok) return passed(`${row.user} has the REPLICATION attribute`);
    if (row.via) return passed(`${row.user} replicates through the managed role ${row.via}`);
    return failed(
      `the source account ${row.user} may not create a replication slot or stream changes`,
      [row.user],
      `on the source, as a superuser: ALTER ROLE ${row.user} REPLICATION; (managed services: GRANT rds_replication ` +
        `TO ${row.user}, or the provider's replication role)`,
    );
  },
});

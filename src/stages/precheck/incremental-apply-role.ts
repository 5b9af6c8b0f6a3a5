/**
 * incremental.apply-role: the apply sets session_replication_role = replica so that triggers and
 * foreign keys, which fired on the source already, do not fire again on the target.
 */
import { incrementalCheck } from './incremental-skip.js';
import { passed, warning } from './types.js';

export const incrementalApplyRole = incrementalCheck({
  id: 'incremental.apply-role',
  title: 'Target account may silence triggers during the apply',
  level: 'warning',
  needs: ['target'],
  async run(ctx) {
    const v15 = ctx.targetVersion >= 150000;
    const r = await ctx.target!.query<{ user: string; ok: boolean }>(
      `SELECT current_user AS user, (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user)
              ${v15 ? "OR has_parameter_privilege('session_replication_role', 'SET')" : ''} AS ok`,
    );
    const { user, ok } = r.rows[0];
    if (ok) return passed(`${user} may set session_replication_role = replica`);
    return warning(
      `${user} may not set session_replication_role: triggers and foreign-key checks fire again on applied changes`,
      [user],
      v15
        ? `on the target, as a superuser: GRANT SET ON PARAMETER session_replication_role TO ${user};`
        : 'apply as a superuser, or accept that target triggers fire (disable them on the target meanwhile)',
    );
  },
});

/**
 * privileges.ddl: the generated DDL run by the target account, foreseen — new owners it must be
 * a member of, CREATE those owners need on schemas and the database, statements on existing
 * schemas/extensions it does not own. Fails with the exact SQL (real role and schema names) a
 * DBA runs on the target; `pgferry precheck --grants` prints the same as one script.
 */
import { ddlNeeds, fixText } from './ddl-needs.js';
import { ddlPlan } from './ddl-plan.js';
import { failed, passed, plural, type CheckDef } from './types.js';

export const privilegesDdl: CheckDef = {
  id: 'privileges.ddl',
  title: 'Privileges the schema DDL needs',
  level: 'error',
  needs: ['source', 'target', 'model'],
  async run(ctx) {
    const su = await ctx.target!.query<{ su: boolean }>(
      `SELECT rolsuper AS su FROM pg_roles WHERE rolname = current_user`,
    );
    if (su.rows[0].su) return passed('the target account is a superuser');
    const plan = await ddlPlan(ctx.ddl ?? ctx.catalog ?? ctx.source!, ctx.sel);
    const needs = await ddlNeeds(ctx.target!, plan);
    const owners = new Set(plan.owners.map((o) => o.role)).size;
    if (!needs.length) {
      const counts = `${plural(owners, 'owner role')}, ${plural(plan.owners.length, 'owner change')}`;
      return passed(`the target account can run the schema DDL (${counts})`);
    }
    const fixes = [...new Set(needs.map(fixText))].join('\n');
    return failed(
      `the target account cannot run ${plural(needs.length, 'part')} of the schema DDL`,
      needs.map((n) => `${n.what} — ${fixText(n)}`),
      `run on the target as a superuser (or pgferry precheck --grants for the whole script):\n${fixes}`,
    );
  },
};

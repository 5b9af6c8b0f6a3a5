/**
 * `pgferry precheck --grants`: the GRANT script a DBA runs so the two migration accounts can run
 * the task — on the source what the read-only account reads (CONNECT, USAGE, SELECT on the
 * selected tables and sequences, SELECT on large objects), on the target what the DDL needs
 * (roles to create, memberships, CREATE for new owners; see ./ddl-needs.ts). Names come from
 * both catalogs. Reads only; both sessions are read-only.
 */
import type pg from 'pg';
import { connect } from '../../pg/connect.js';
import { resolveConnSpec } from '../../pg/connstring.js';
import type { TaskConfig } from '../../core/config.js';
import { copiesLargeObjects, Selection } from '../../core/selection.js';
import { qualify, quoteIdent } from '../../core/ident.js';
import { ddlNeeds } from './ddl-needs.js';
import { ddlPlan } from './ddl-plan.js';
import { ownersNotGivable } from './largeobjects.js';
import { loadSourceModel } from './model.js';

export type GrantSide = 'source' | 'target';

async function session(conn: string, label: string): Promise<pg.Client> {
  const c = await connect(resolveConnSpec(conn), { label, role: 'precheck' });
  await c.query('SET default_transaction_read_only = on');
  return c;
}

async function sourceScript(c: pg.Client, task: TaskConfig, sel: Selection): Promise<string[]> {
  const m = await loadSourceModel(c, sel);
  const who = quoteIdent(m.user);
  const out = [`-- on the SOURCE database ${quoteIdent(m.database)}, as a superuser or the owners, for ${who}`];
  if (m.superuser) return [...out, `-- ${who} is a superuser: nothing to grant`];
  out.push(`GRANT CONNECT ON DATABASE ${quoteIdent(m.database)} TO ${who};`);
  for (const s of m.schemas) out.push(`GRANT USAGE ON SCHEMA ${quoteIdent(s.name)} TO ${who};`);
  for (const t of m.tables) out.push(`GRANT SELECT ON TABLE ${qualify(t.schema, t.name)} TO ${who};`);
  for (const s of m.sequences) out.push(`GRANT SELECT ON SEQUENCE ${qualify(s.schema, s.name)} TO ${who};`);
  if (copiesLargeObjects(task)) {
    const lo = await c.query<{ oid: string }>('SELECT oid::text AS oid FROM pg_largeobject_metadata ORDER BY oid');
    if (lo.rows.length) out.push('-- large objects (or, for all of them: ALTER SYSTEM SET lo_compat_privileges = on)');
    for (const x of lo.rows) out.push(`GRANT SELECT ON LARGE OBJECT ${x.oid} TO ${who};`);
  }
  return out;
}

/** Roles the migration gives objects or privileges to (not the source account's own grants), missing on the target. */
async function missingRoles(s: pg.Client, t: pg.Client, wanted: string[]): Promise<string[]> {
  const lo = await s.query<{ r: string }>(`
    SELECT DISTINCT pg_get_userbyid(x.grantee) AS r FROM pg_largeobject_metadata m, aclexplode(m.lomacl) x
    WHERE x.grantee <> 0 AND x.grantee <> (SELECT oid FROM pg_roles WHERE rolname = current_user)
    UNION SELECT pg_get_userbyid(lomowner) FROM pg_largeobject_metadata`);
  const names = [...new Set([...wanted, ...lo.rows.map((x) => x.r)])];
  const r = await t.query<{ name: string }>(
    `SELECT w.name FROM unnest($1::text[]) AS w(name)
     WHERE NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = w.name) ORDER BY 1`,
    [names],
  );
  return r.rows.map((x) => x.name);
}

async function targetScript(s: pg.Client, t: pg.Client, task: TaskConfig, sel: Selection): Promise<string[]> {
  const me = (
    await t.query<{ u: string; db: string; su: boolean; dbc: boolean }>(
      `SELECT current_user AS u, current_database() AS db,
            (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS su,
            has_database_privilege(current_database(), 'CREATE') AS dbc`,
    )
  ).rows[0];
  const who = quoteIdent(me.u);
  const out = [`-- on the TARGET database ${quoteIdent(me.db)}, as a superuser, for ${who}`];
  if (me.su) return [...out, `-- ${who} is a superuser: nothing to grant`];
  const plan = await ddlPlan(s, sel);
  const srcUser = (await s.query<{ u: string }>('SELECT current_user AS u')).rows[0].u;
  const owners = task.noOwner ? [] : task.ownerTo ? [task.ownerTo] : plan.owners.map((o) => o.role);
  const wanted = [...owners, ...(task.noAcl ? [] : plan.grantees)].filter((r) => r !== srcUser && r !== me.u);
  const roles = await missingRoles(s, t, wanted);
  out.push(...roles.map((r) => `CREATE ROLE ${quoteIdent(r)} NOLOGIN;`));
  if (!me.dbc) out.push(`GRANT CREATE ON DATABASE ${quoteIdent(me.db)} TO ${who};`);
  for (const n of await ddlNeeds(t, plan)) out.push(...n.sql);
  if (copiesLargeObjects(task)) {
    for (const o of await ownersNotGivable(s, t, task)) out.push(`GRANT ${quoteIdent(o.owner)} TO ${who};`);
  }
  return [...new Set(out)];
}

/** The script for one side, or both (source first). */
export async function grantsScript(task: TaskConfig, side?: GrantSide): Promise<string> {
  const sel = new Selection(task);
  const s = await session(task.source, 'source');
  try {
    if (side === 'source') return (await sourceScript(s, task, sel)).join('\n') + '\n';
    const t = await session(task.target, 'target');
    try {
      const tgt = await targetScript(s, t, task, sel);
      if (side === 'target') return tgt.join('\n') + '\n';
      return [...(await sourceScript(s, task, sel)), '', ...tgt].join('\n') + '\n';
    } finally {
      await t.end().catch(() => {});
    }
  } finally {
    await s.end().catch(() => {});
  }
}

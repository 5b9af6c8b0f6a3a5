/**
 * The SQL that removes a task's migration accounts after the switch-over, one plan per side: who
 * the role is on that side (the bootstrap superuser, the application owner, what it owns), the
 * statements (REASSIGN OWNED to the application owner, DROP OWNED, DROP ROLE) and notes; and the
 * one text both `pgferry finish` and the service's finish show.
 */
import type pg from 'pg';
import { quoteIdent } from '../../core/ident.js';

export type Side = 'source' | 'target';

export interface RoleInfo {
  oid: number;
  rolsuper: boolean;
  /** Objects the role owns in the current database. */
  owned: number;
}

export interface AccountPlan {
  side: Side;
  role: string;
  statements: string[];
  /** Why the statements cannot run (or must not be printed as runnable). */
  blocked?: string;
  notes: string[];
}

/** Stands for the application's owner role when none is given. */
export const APP_OWNER_PLACEHOLDER = '<app_owner>';

interface RoleRow {
  oid: number;
  rolsuper: boolean;
  owned: string;
}

/** The role as seen from the session's database; undefined when it does not exist. */
export async function roleInfo(c: pg.Client, role: string): Promise<RoleInfo | undefined> {
  const r = await c.query<RoleRow>(
    `SELECT r.oid::int AS oid, r.rolsuper,
            ((SELECT count(*) FROM pg_class WHERE relowner = r.oid) + (SELECT count(*) FROM pg_proc WHERE proowner = r.oid)
             + (SELECT count(*) FROM pg_namespace WHERE nspowner = r.oid) + (SELECT count(*) FROM pg_type t WHERE typowner = r.oid AND typrelid = 0 AND typelem = 0)
             + (SELECT count(*) FROM pg_database WHERE datdba = r.oid AND datname = current_database()))::text AS owned
       FROM pg_roles r WHERE r.rolname = $1`,
    [role],
  );
  if (!r.rows.length) return undefined;
  return { oid: r.rows[0].oid, rolsuper: r.rows[0].rolsuper, owned: Number(r.rows[0].owned) };
}

/** The statements removing one side's migration account. */
export function accountStatements(
  side: Side,
  role: string,
  info: RoleInfo | undefined,
  appOwner: string | undefined,
): AccountPlan {
  const q = quoteIdent(role);
  const notes: string[] = [];
  const statements: string[] = [];
  if (!info) return { side, role, statements, notes: [`role ${role} does not exist any more on the ${side}`] };
  if (info.oid === 10) {
    return {
      side,
      role,
      statements,
      blocked: `${role} is the bootstrap superuser of the ${side} cluster and cannot be dropped`,
      notes: ['nothing to remove: the migration ran as the cluster superuser'],
    };
  }
  if (appOwner !== undefined && appOwner === role) {
    return {
      side,
      role,
      statements,
      blocked: `--app-owner ${role} is the migration account itself: it owns the application's objects, so it must stay`,
      notes: [
        'nothing to remove: the migration ran as the application owner (revoke only what you granted it for the migration)',
      ],
    };
  }
  const owner = appOwner ? quoteIdent(appOwner) : APP_OWNER_PLACEHOLDER;
  if (side === 'target' || info.owned > 0) {
    statements.push(`REASSIGN OWNED BY ${q} TO ${owner};`);
    notes.push(
      side === 'target'
        ? `on the target, ${role} may own the migrated objects: REASSIGN OWNED hands them to the application owner first`
        : `${role} owns ${info.owned} object(s) in the source database: REASSIGN OWNED keeps them, DROP OWNED would drop them`,
    );
  }
  statements.push(`DROP OWNED BY ${q};`, `DROP ROLE ${q};`);
  if (info.rolsuper) notes.push(`${role} is a superuser: make sure no application uses it before dropping it`);
  notes.push(
    'REASSIGN/DROP OWNED act on the current database only: run them in every database of the cluster where the role owns objects or holds privileges, then DROP ROLE',
  );
  return { side, role, statements, notes };
}

/**
 * The clean-up text, line by line: a heading, then per side where it runs (`where`: the side's
 * connection described without password), the notes as comments and the statements.
 */
export function accountCleanupLines(plans: AccountPlan[], where: Partial<Record<Side, string>>): string[] {
  const lines = ['Remove the migration accounts (run as another role with CREATEROLE, or a superuser):'];
  for (const a of plans) {
    lines.push('', `-- on the ${a.side} (${where[a.side] ?? a.side}), migration account ${a.role}:`);
    for (const n of a.notes) lines.push(`--   ${n}`);
    if (a.blocked) lines.push(`--   ${a.blocked}`);
    lines.push(...a.statements);
  }
  if (!plans.some((a) => a.side === 'source')) lines.push('', '-- (give --source URL to include the source account)');
  return lines;
}

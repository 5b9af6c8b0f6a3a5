/**
 * Turning the DDL plan into what the target lacks, each with the SQL a DBA runs to fix it:
 *  - membership in every new owner (ALTER … OWNER TO needs it; GRANT on its objects too);
 *  - CREATE on the object's schema for every new owner (ALTER … OWNER TO checks it), unless the
 *    DDL gives it (schema ownership, GRANT CREATE) — and CREATE on the database for a new owner
 *    of an existing schema;
 *  - for statements on schemas/extensions that already exist and would change something:
 *    membership in their current owner.
 */
import type pg from 'pg';
import { schemaAclNoop } from '../schema/acl-noop.js';
import { alreadyEqual } from '../schema/skip.js';
import { quoteIdent } from '../../core/ident.js';
import type { DdlPlan, OwnerChange } from './ddl-plan.js';

/** A missing privilege: what fails without it, and the statements (and an alternative) that give it. */
export interface Need {
  what: string;
  sql: string[];
  alt?: string;
}

/** One line of SQL for a need, as precheck prints it. */
export function fixText(n: Need): string {
  return `${n.sql.join(' ')}${n.alt ? `  -- or ${n.alt}` : ''}`;
}

interface TargetFacts {
  account: string;
  db: string;
  roles: Set<string>;
  member: Set<string>;
  schemaOwner: Map<string, string>;
}

const ROLES_SQL = `SELECT rolname AS name, pg_has_role(current_user, oid, 'MEMBER') AS member
                   FROM pg_roles WHERE rolname = ANY ($1::text[])`;
const SCHEMAS_SQL = `SELECT nspname AS name, pg_get_userbyid(nspowner) AS owner
                     FROM pg_namespace WHERE nspname = ANY ($1::text[])`;

async function targetFacts(t: pg.Client, plan: DdlPlan): Promise<TargetFacts> {
  const planned = [...plan.schemas.values()].map((s) => s.owner ?? '');
  const names = [...new Set([...plan.owners.map((o) => o.role), ...planned])].filter(Boolean);
  const me = (await t.query<{ u: string; db: string }>('SELECT current_user AS u, current_database() AS db')).rows[0];
  const r = await t.query<{ name: string; member: boolean }>(ROLES_SQL, [names]);
  const schemas = [...plan.schemas.keys(), ...plan.owners.map((o) => o.schema ?? '')];
  const s = await t.query<{ name: string; owner: string }>(SCHEMAS_SQL, [schemas]);
  return {
    account: me.u,
    db: me.db,
    roles: new Set(r.rows.map((x) => x.name)),
    member: new Set(r.rows.filter((x) => x.member).map((x) => x.name)),
    schemaOwner: new Map(s.rows.map((x) => [x.name, x.owner])),
  };
}

const CAN_CREATE_SQL = `
  SELECT (EXISTS (SELECT 1 FROM pg_roles o WHERE o.rolname = $2 AND pg_has_role($1, o.oid, 'USAGE')))
      OR coalesce((SELECT has_schema_privilege($1, n.oid, 'CREATE') FROM pg_namespace n WHERE n.nspname = $3), false)
      OR coalesce((SELECT bool_or(pg_has_role($1, g.oid, 'USAGE')) FROM pg_roles g
                   WHERE g.rolname = ANY ($4::text[])), false) AS ok`;

/** Can `role` create in `schema` once the DDL's schema statements ran? */
async function canCreateIn(
  t: pg.Client,
  f: TargetFacts,
  plan: DdlPlan,
  role: string,
  schema: string,
): Promise<boolean> {
  const p = plan.schemas.get(schema);
  const existing = f.schemaOwner.get(schema);
  const owner = existing !== undefined && (!p?.owner || p.owner === existing) ? existing : p?.owner;
  if (owner === role || p?.createGrantees.has(role) || p?.createGrantees.has('')) return true;
  if (!f.roles.has(role)) return false;
  const r = await t.query<{ ok: boolean }>(CAN_CREATE_SQL, [role, owner ?? '', schema, [...(p?.createGrantees ?? [])]]);
  return r.rows[0].ok;
}

function membershipNeeds(f: TargetFacts, plan: DdlPlan): Need[] {
  const out: Need[] = [];
  for (const role of new Set(plan.owners.map((o) => o.role))) {
    if (f.member.has(role) || role === f.account) continue;
    const objs = plan.owners.filter((o) => o.role === role).map((o) => o.object);
    const create = f.roles.has(role) ? [] : [`CREATE ROLE ${quoteIdent(role)} NOLOGIN;`];
    const list = `${objs.slice(0, 3).join(', ')}${objs.length > 3 ? ', …' : ''}`;
    out.push({
      what: `${f.account} must be a member of ${role} to make it the owner of ${list}`,
      sql: [...create, `GRANT ${quoteIdent(role)} TO ${quoteIdent(f.account)};`],
      alt: '--owner-to ROLE / --no-owner',
    });
  }
  return out;
}

/** A new owner of a schema that exists already needs CREATE on the database (new ones use AUTHORIZATION). */
async function schemaOwnerNeed(t: pg.Client, f: TargetFacts, o: OwnerChange): Promise<Need | undefined> {
  const name = o.object.slice('schema '.length);
  if (!f.schemaOwner.has(name) || f.schemaOwner.get(name) === o.role) return undefined;
  const sql = `SELECT has_database_privilege($1, current_database(), 'CREATE') AS ok`;
  if (f.roles.has(o.role) && (await t.query<{ ok: boolean }>(sql, [o.role])).rows[0].ok) return undefined;
  return {
    what: `${o.role} needs CREATE on database ${f.db} to become the owner of existing schema ${name}`,
    sql: [`GRANT CREATE ON DATABASE ${quoteIdent(f.db)} TO ${quoteIdent(o.role)};`],
  };
}

/** The new owner of an object needs CREATE on its schema; a schema still to be created can be prepared. */
async function createInNeed(
  t: pg.Client,
  f: TargetFacts,
  plan: DdlPlan,
  o: OwnerChange & { schema: string },
): Promise<Need | undefined> {
  if (await canCreateIn(t, f, plan, o.role, o.schema)) return undefined;
  const owner = plan.schemas.get(o.schema)?.owner;
  const auth = owner ? ` AUTHORIZATION ${quoteIdent(owner)}` : '';
  const pre = f.schemaOwner.has(o.schema) ? [] : [`CREATE SCHEMA ${quoteIdent(o.schema)}${auth};`];
  return {
    what: `${o.role} needs CREATE on schema ${o.schema} to become the owner of ${o.object}`,
    sql: [...pre, `GRANT CREATE ON SCHEMA ${quoteIdent(o.schema)} TO ${quoteIdent(o.role)};`],
  };
}

async function createNeeds(t: pg.Client, f: TargetFacts, plan: DdlPlan): Promise<Need[]> {
  const out = new Map<string, Need | undefined>();
  for (const o of plan.owners) {
    const key = `${o.schema ?? '-'}\u0000${o.role}\u0000${o.schema === null ? o.object : ''}`;
    if (out.has(key)) continue;
    if (o.schema === null && o.object.startsWith('schema ')) out.set(key, await schemaOwnerNeed(t, f, o));
    else if (o.schema !== null) out.set(key, await createInNeed(t, f, plan, { ...o, schema: o.schema }));
  }
  return [...out.values()].filter((n): n is Need => n !== undefined);
}

const OWNER_SQL = {
  schema: `SELECT pg_get_userbyid(nspowner) AS owner, pg_has_role(current_user, nspowner, 'MEMBER') AS member
           FROM pg_namespace WHERE nspname = $1`,
  extension: `SELECT pg_get_userbyid(extowner) AS owner, pg_has_role(current_user, extowner, 'MEMBER') AS member
              FROM pg_extension WHERE extname = $1`,
};

async function existingNeeds(t: pg.Client, f: TargetFacts, plan: DdlPlan): Promise<Need[]> {
  const out = new Map<string, Need>();
  for (const x of plan.touches) {
    const r = await t.query<{ owner: string; member: boolean }>(OWNER_SQL[x.kind], [x.name]);
    if (!r.rowCount || r.rows[0].member || out.has(`${x.kind} ${x.name}`)) continue;
    if ((await schemaAclNoop(t, x.block)).has(x.part) || (await alreadyEqual(t, x.part.ast))) continue;
    const me = quoteIdent(f.account);
    out.set(`${x.kind} ${x.name}`, {
      what:
        `${x.kind} ${x.name} exists on the target, owned by ${r.rows[0].owner}; ` +
        `${f.account} cannot run: ${x.part.sql}`,
      sql: [`GRANT ${quoteIdent(r.rows[0].owner)} TO ${me};`],
      alt: `ALTER ${x.kind.toUpperCase()} ${quoteIdent(x.name)} OWNER TO ${me}; or --no-acl / --no-owner`,
    });
  }
  return [...out.values()];
}

/** Everything the target account lacks for the generated DDL (nothing for a superuser). */
export async function ddlNeeds(t: pg.Client, plan: DdlPlan): Promise<Need[]> {
  const su = await t.query<{ su: boolean }>(`SELECT rolsuper AS su FROM pg_roles WHERE rolname = current_user`);
  if (su.rows[0].su) return [];
  const f = await targetFacts(t, plan);
  return [...membershipNeeds(f, plan), ...(await createNeeds(t, f, plan)), ...(await existingNeeds(t, f, plan))];
}

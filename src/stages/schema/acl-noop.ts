/**
 * A block's GRANT/REVOKE statements on one schema, taken together: REVOKE ALL … FROM PUBLIC
 * followed by GRANT USAGE … TO PUBLIC changes nothing when PUBLIC already has just USAGE. When
 * the privileges the block leaves are the ones the schema has on the target (grantors aside),
 * all of them are skipped — the account may not be allowed to run them on a schema it does not own.
 */
import type pg from 'pg';
import { schemaPrivileges } from './skip.js';
import type { Part } from './split.js';

type Node = Record<string, any>;
type Acl = Map<string, boolean>; // "grantee\0PRIVILEGE" → grantable

function schemaGrant(p: Part): Node | undefined {
  const g = p.ast?.GrantStmt;
  const one = g && g.objtype === 'OBJECT_SCHEMA' && g.targtype === 'ACL_TARGET_OBJECT' && g.objects?.length === 1;
  return one ? g : undefined;
}

function grantees(g: Node): string[] | undefined {
  const out: string[] = [];
  for (const x of g.grantees ?? []) {
    const r = x.RoleSpec;
    if (r?.roletype === 'ROLESPEC_PUBLIC') out.push('');
    else if (r?.roletype === 'ROLESPEC_CSTRING') out.push(r.rolename);
    else return undefined;
  }
  return out;
}

function applyTo(acl: Acl, g: Node, who: string[]): void {
  const privs = schemaPrivileges(g);
  for (const w of who) {
    for (const p of privs) {
      const k = `${w}\u0000${p}`;
      if (g.is_grant) acl.set(k, (acl.get(k) ?? false) || g.grant_option === true);
      else if (g.grant_option) {
        if (acl.has(k)) acl.set(k, false);
      } else acl.delete(k);
    }
  }
}

async function currentAcl(c: pg.Client, schema: string): Promise<Acl | undefined> {
  const r = await c.query<{ g: string; p: string; o: boolean }>(
    `
    SELECT CASE WHEN x.grantee = 0 THEN '' ELSE pg_catalog.pg_get_userbyid(x.grantee) END AS g,
           x.privilege_type AS p, bool_or(x.is_grantable) AS o
    FROM pg_catalog.pg_namespace n
    CROSS JOIN LATERAL pg_catalog.aclexplode(coalesce(n.nspacl, pg_catalog.acldefault('n', n.nspowner))) x
    WHERE n.nspname = $1 GROUP BY 1, 2`,
    [schema],
  );
  const exists = await c.query('SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1', [schema]);
  return exists.rowCount ? new Map(r.rows.map((x) => [`${x.g}\u0000${x.p}`, x.o])) : undefined;
}

const same = (a: Acl, b: Acl) => a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);

/** The GRANT/REVOKE parts on schemas whose privileges the block, as a whole, leaves unchanged. */
export async function schemaAclNoop(c: pg.Client, parts: Part[]): Promise<Set<Part>> {
  const bySchema = new Map<string, Part[]>();
  for (const p of parts) {
    const g = schemaGrant(p);
    if (g) bySchema.set(g.objects[0].String?.sval, [...(bySchema.get(g.objects[0].String?.sval) ?? []), p]);
  }
  const skip = new Set<Part>();
  for (const [schema, list] of bySchema) {
    const now = await currentAcl(c, schema);
    if (!now) continue;
    const after = new Map(now);
    const ok = list.every((p) => {
      const w = grantees(schemaGrant(p)!);
      if (w) applyTo(after, schemaGrant(p)!, w);
      return w !== undefined;
    });
    if (ok && same(now, after)) for (const p of list) skip.add(p);
  }
  return skip;
}

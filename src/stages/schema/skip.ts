/**
 * Statements on objects that exist before the migration (schema public, a schema or extension a
 * DBA created) may be ones the target account is not allowed to run — and often need not run:
 * the comment, owner or privilege is already what the source has. Each such statement is
 * compared with the target's catalogs first and skipped when it would change nothing.
 * Only schemas and extensions are compared; every other object is created by the migration.
 */
import type pg from 'pg';

type Node = Record<string, any>;

/** The privileges a GRANT/REVOKE on a schema names (ALL is USAGE and CREATE). */
export function schemaPrivileges(g: Node): string[] {
  if (!g.privileges?.length) return ['USAGE', 'CREATE'];
  return g.privileges.map((p: Node) => String(p.AccessPriv?.priv_name).toUpperCase());
}

const str = (n: Node | undefined): string | undefined => n?.String?.sval;

/** The role a RoleSpec names: '' for PUBLIC, undefined for CURRENT_USER and the like. */
function roleName(spec: Node | undefined): string | undefined {
  if (!spec) return undefined;
  if (spec.roletype === 'ROLESPEC_PUBLIC') return '';
  return spec.roletype === 'ROLESPEC_CSTRING' ? spec.rolename : undefined;
}

/** Why this statement can be skipped on the target, or null when it must run. */
export async function alreadyEqual(c: pg.Client, ast: Node | null): Promise<string | null> {
  if (!ast) return null;
  const [type, s] = Object.entries(ast)[0] as [string, Node];
  if (type === 'CreateSchemaStmt' && s.if_not_exists) {
    const r = await c.query(`SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1`, [s.schemaname]);
    return r.rowCount ? `schema ${s.schemaname} exists` : null;
  }
  if (type === 'CommentStmt' && (s.objtype === 'OBJECT_SCHEMA' || s.objtype === 'OBJECT_EXTENSION')) {
    return sameComment(c, s);
  }
  if (type === 'AlterOwnerStmt' && s.objectType === 'OBJECT_SCHEMA') {
    return sameSchemaOwner(c, str(s.object), roleName(s.newowner));
  }
  if (type === 'GrantStmt' && s.objtype === 'OBJECT_SCHEMA' && s.targtype === 'ACL_TARGET_OBJECT') {
    return sameSchemaAcl(c, s);
  }
  return null;
}

async function sameComment(c: pg.Client, s: Node): Promise<string | null> {
  const schema = s.objtype === 'OBJECT_SCHEMA';
  const r = await c.query<{ d: string | null }>(
    schema
      ? `SELECT pg_catalog.obj_description(oid, 'pg_namespace') AS d FROM pg_catalog.pg_namespace WHERE nspname = $1`
      : `SELECT pg_catalog.obj_description(oid, 'pg_extension') AS d FROM pg_catalog.pg_extension WHERE extname = $1`,
    [str(s.object)],
  );
  if (!r.rowCount) return null;
  const want = s.comment ?? null;
  return r.rows[0].d === want || (want === '' && r.rows[0].d === null) ? 'the comment is already the same' : null;
}

async function sameSchemaOwner(c: pg.Client, schema?: string, role?: string): Promise<string | null> {
  if (schema === undefined || !role) return null;
  const r = await c.query(
    `SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1 AND pg_catalog.pg_get_userbyid(nspowner) = $2`,
    [schema, role],
  );
  return r.rowCount ? `${role} already owns schema ${schema}` : null;
}

/** GRANT: every privilege already held (with grant option when asked). REVOKE: none of them held. */
async function sameSchemaAcl(c: pg.Client, s: Node): Promise<string | null> {
  const schemas = (s.objects ?? []).map(str);
  const grantees = (s.grantees ?? []).map((g: Node) => roleName(g.RoleSpec));
  if (schemas.some((x: unknown) => x === undefined) || grantees.some((g: unknown) => g === undefined)) return null;
  const privs = schemaPrivileges(s);
  const r = await c.query<{ n: string }>(
    `
    SELECT count(DISTINCT (n.nspname, x.grantee, x.privilege_type))::text AS n
    FROM pg_catalog.pg_namespace n
    CROSS JOIN LATERAL pg_catalog.aclexplode(coalesce(n.nspacl, pg_catalog.acldefault('n', n.nspowner))) x
    WHERE n.nspname = ANY ($1::text[]) AND x.privilege_type = ANY ($3::text[])
      AND x.grantee = ANY (SELECT 0::oid WHERE '' = ANY ($2::text[])
                           UNION ALL SELECT oid FROM pg_catalog.pg_roles WHERE rolname = ANY ($2::text[]))
      AND (NOT $4 OR x.is_grantable)`,
    [schemas, grantees, privs, s.is_grant === true && s.grant_option === true],
  );
  const held = Number(r.rows[0].n);
  const all = schemas.length * grantees.length * privs.length;
  if (s.is_grant) return held === all ? 'the privileges are already granted' : null;
  return held === 0 && !s.grant_option ? 'no such privilege to revoke' : null;
}

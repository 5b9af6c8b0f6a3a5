/**
 * roles: owners and grantees of the selected objects must exist on the target (unless
 * ownerTo / noOwner and noAcl), and a non-superuser target user must be able to give ownership.
 */
import { quoteIdent } from '../../core/ident.js';
import { aclGrantee } from './model.js';
import { failed, passed, plural, type CheckDef } from './types.js';

export const roles: CheckDef = {
  id: 'roles',
  title: 'Roles on the target',
  level: 'error',
  needs: ['source', 'target', 'model'],
  async run(ctx) {
    const m = ctx.model!;
    const task = ctx.task;
    const owners = new Map<string, string[]>();
    const grantees = new Map<string, string[]>();
    // appended in place: one role owns or is granted thousands of tables (a copy per add was quadratic)
    const add = (map: Map<string, string[]>, role: string, what: string) => {
      if (!role) return;
      const list = map.get(role);
      if (list) list.push(what);
      else map.set(role, [what]);
    };
    // Grants held by the source account itself exist for the migration only: they are not carried.
    const addAcl = (acl: string[] | null, what: string) => {
      for (const a of acl ?? []) if (aclGrantee(a) !== m.user) add(grantees, aclGrantee(a), what);
    };
    // Schemas that already exist on the target keep their owner and privileges.
    const existing = new Set(
      (
        await ctx.target!.query<{ n: string }>(
          `SELECT nspname AS n FROM pg_namespace WHERE nspname = ANY ($1::text[])`,
          [m.schemas.map((s) => ctx.sel.targetSchema(s.name))],
        )
      ).rows.map((x) => x.n),
    );
    for (const s of m.schemas) {
      if (existing.has(ctx.sel.targetSchema(s.name))) continue;
      add(owners, s.owner, `schema ${quoteIdent(s.name)}`);
      addAcl(s.acl, `schema ${quoteIdent(s.name)}`);
    }
    for (const t of m.tables) {
      add(owners, t.owner, `table ${t.key}`);
      addAcl(t.acl, `table ${t.key}`);
    }
    for (const s of m.sequences) {
      const k = `sequence ${quoteIdent(s.schema)}.${quoteIdent(s.name)}`;
      add(owners, s.owner, k);
      addAcl(s.acl, k);
    }
    const other = await ctx.source!.query<{ what: string; owner: string; acl: string[] | null }>(
      `SELECT 'function ' || p.oid::regprocedure::text AS what, pg_get_userbyid(p.proowner) AS owner, p.proacl::text[] AS acl
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
       WHERE n.nspname = ANY ($1::text[]) AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
       UNION ALL
       SELECT CASE c.relkind WHEN 'v' THEN 'view ' WHEN 'm' THEN 'materialized view ' ELSE 'foreign table ' END || quote_ident(n.nspname) || '.' || quote_ident(c.relname),
              pg_get_userbyid(c.relowner), c.relacl::text[]
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind IN ('v', 'm', 'f') AND n.nspname = ANY ($1::text[]) AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
       UNION ALL
       SELECT 'type ' || format_type(t.oid, NULL), pg_get_userbyid(t.typowner), t.typacl::text[]
       FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
       WHERE n.nspname = ANY ($1::text[]) AND t.typtype IN ('e', 'd', 'r', 'c') AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
         AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')`,
      [m.schemas.map((s) => s.name)],
    );
    for (const o of other.rows) {
      add(owners, o.owner, o.what);
      addAcl(o.acl, o.what);
    }

    const names = [...new Set([...owners.keys(), ...grantees.keys(), ...(task.ownerTo ? [task.ownerTo] : [])])];
    const me = quoteIdent((await ctx.target!.query<{ u: string }>('SELECT current_user AS u')).rows[0].u);
    const r = await ctx.target!.query<{ name: string; exists: boolean; member: boolean; su: boolean }>(
      `SELECT w.name, r.oid IS NOT NULL AS exists,
              coalesce(pg_has_role(current_user, r.oid, 'MEMBER'), false) AS member,
              (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS su
       FROM unnest($1::text[]) AS w(name) LEFT JOIN pg_roles r ON r.rolname = w.name`,
      [names],
    );
    const onTarget = new Map(r.rows.map((x) => [x.name, x]));
    const su = r.rows[0]?.su ?? true;
    const problems: string[] = [];
    const creates: string[] = [];
    const list = (objs: string[]) =>
      `${objs.slice(0, 3).join(', ')}${objs.length > 3 ? ` and ${objs.length - 3} more` : ''}`;
    if (task.ownerTo) {
      const o = onTarget.get(task.ownerTo)!;
      if (!o.exists) {
        problems.push(`role ${quoteIdent(task.ownerTo)} (ownerTo) does not exist`);
        creates.push(`CREATE ROLE ${quoteIdent(task.ownerTo)};`);
      }
      if (!su && !o.member) creates.push(`GRANT ${quoteIdent(task.ownerTo)} TO ${me};`);
      if (o.exists && !su && !o.member)
        problems.push(
          `role ${quoteIdent(task.ownerTo)} (ownerTo): the target user is not a member, so cannot give it ownership (GRANT ${quoteIdent(task.ownerTo)} TO ${me};)`,
        );
    } else if (!task.noOwner) {
      for (const [role, objs] of owners) {
        const o = onTarget.get(role)!;
        if (!o.exists) {
          problems.push(`role ${quoteIdent(role)} does not exist: owner of ${list(objs)}`);
          creates.push(`CREATE ROLE ${quoteIdent(role)};`, ...(su ? [] : [`GRANT ${quoteIdent(role)} TO ${me};`]));
        } else if (!su && !o.member && !role.startsWith('pg_')) {
          problems.push(
            `role ${quoteIdent(role)}: the target user is not a member, so cannot give it ownership of ${list(objs)} (GRANT ${quoteIdent(role)} TO ${me};)`,
          );
          creates.push(`GRANT ${quoteIdent(role)} TO ${me};`);
        }
      }
    }
    if (!task.noAcl) {
      for (const [role, objs] of grantees) {
        if (owners.has(role) && !task.noOwner && !task.ownerTo) continue; // already reported as owner
        const o = onTarget.get(role)!;
        if (!o.exists) {
          problems.push(`role ${quoteIdent(role)} does not exist: has privileges on ${list(objs)}`);
          creates.push(`CREATE ROLE ${quoteIdent(role)};`);
        }
      }
    }
    if (!problems.length) {
      const how = task.ownerTo
        ? `owner ${task.ownerTo}`
        : task.noOwner
          ? 'no owners set'
          : `${plural(owners.size, 'owner')}`;
      return passed(
        `${how}${task.noAcl ? ', no privileges copied' : `, ${plural(grantees.size, 'grantee')}`}: all exist on the target`,
      );
    }
    return failed(
      `${plural(problems.length, 'role problem')} on the target`,
      problems,
      `run on the target as a superuser: ${[...new Set(creates)].slice(0, 20).join(' ')} — or use --owner-to ROLE / --no-owner and --no-acl`,
    );
  },
};

/**
 * Default privileges (late, after every object: they would change the ACL of objects created after
 * them): what differs from the built-in defaults, as ALTER DEFAULT PRIVILEGES … GRANT / REVOKE.
 */
import { quoteIdent } from '../../../../core/ident.js';
import type { DefaultAclObj } from '../../catalog/model.js';
import { GLOBAL_REASON, type DdlContext } from '../context.js';

const OBJ_TYPES: Record<string, string> = { r: 'TABLES', S: 'SEQUENCES', f: 'FUNCTIONS', T: 'TYPES', n: 'SCHEMAS' };

export function defaultPrivileges(ctx: DdlContext): void {
  for (const d of ctx.task.noAcl ? [] : ctx.m.defaultAcls) {
    const objs = OBJ_TYPES[d.objType] ?? d.objType;
    const where = d.schema == null ? '' : ` IN SCHEMA ${quoteIdent(ctx.sel.targetSchema(d.schema))}`;
    const name = `for role ${quoteIdent(d.role)}${where} on ${objs}`;
    if (d.schema == null ? !ctx.globals : !ctx.sel.schemaSelected(d.schema)) {
      if (d.schema == null) ctx.notMigrated.push({ kind: 'default privileges', name, reason: GLOBAL_REASON });
      continue;
    }
    const lines = privilegeLines(ctx, d, objs, where);
    if (!lines.length) continue;
    ctx.late.push({
      key: `default privileges ${quoteIdent(d.role)} ${d.schema == null ? '-' : quoteIdent(d.schema)} ${d.objType}`,
      kind: 'default privileges',
      name,
      section: 'late',
      sql: lines.join('\n'),
    });
  }
}

function privilegeLines(ctx: DdlContext, d: DefaultAclObj, objs: string, where: string): string[] {
  // noOwner: for the role that runs the migration; ownerTo: for the role that owns the migrated objects.
  const role = ctx.task.noOwner ? null : (ctx.task.ownerTo ?? d.role);
  const head = `ALTER DEFAULT PRIVILEGES${role ? ` FOR ROLE ${quoteIdent(role)}` : ''}${where}`;
  const who = (g: string) =>
    g === '' ? 'PUBLIC' : g === d.role ? (role ? quoteIdent(role) : 'CURRENT_USER') : quoteIdent(g);
  const lines: string[] = [];
  for (const b of d.base) {
    if (!d.acl.some((a) => a.grantee === b.grantee && a.privilege === b.privilege))
      lines.push(`${head} REVOKE ${b.privilege} ON ${objs} FROM ${who(b.grantee)};`);
  }
  for (const a of d.acl) {
    if (!d.base.some((b) => a.grantee === b.grantee && a.privilege === b.privilege && a.grantable === b.grantable)) {
      lines.push(
        `${head} GRANT ${a.privilege} ON ${objs} TO ${who(a.grantee)}${a.grantable ? ' WITH GRANT OPTION' : ''};`,
      );
    }
  }
  return lines;
}

/**
 * Foreign-data wrappers, servers and user mappings (global objects: migrated without an
 * includeSchemas filter, or when a selected foreign table uses them), and foreign tables.
 * Generic options holding secrets are never printed: they are reported instead.
 */
import { quoteIdent, quoteLiteral } from '../../../../core/ident.js';
import { tableKey } from '../../../../core/selection.js';
import { GLOBAL_REASON, type DdlContext } from '../context.js';

const secretOption = (k: string) => /password|secret/i.test(k);

function publicOptions(ctx: DdlContext, o: [string, string][] | null, kind: string, name: string) {
  for (const [k] of o ?? []) {
    if (secretOption(k))
      ctx.notMigrated.push({
        kind: `${kind} option`,
        name: `${k} of ${name}`,
        reason: 'secrets are not copied; set it on the target yourself (ALTER … OPTIONS (ADD …))',
      });
  }
  return o ? o.filter(([k]) => !secretOption(k)) : null;
}

const opts = (o: [string, string][] | null) =>
  o?.length ? ` OPTIONS (${o.map(([k, v]) => `${quoteIdent(k)} ${quoteLiteral(v)}`).join(', ')})` : '';

/** Servers (and their wrappers and user mappings) used by selected foreign tables come along even with includeSchemas. */
function needed(ctx: DdlContext): { srv: Set<string>; fdw: Set<string> } {
  const { m, sel } = ctx;
  const srv = new Set(m.foreignTables.filter((f) => sel.tableSelected(f.schema, f.name)).map((f) => f.server));
  const fdw = new Set(m.servers.filter((x) => srv.has(x.name)).map((x) => x.fdw));
  return { srv, fdw };
}

export function foreignDataWrappers(ctx: DdlContext): void {
  const need = needed(ctx);
  for (const w of ctx.m.fdws) {
    const n = quoteIdent(w.name);
    ctx.names.set(w.id, `foreign-data wrapper ${n}`);
    if (!ctx.globals && !need.fdw.has(w.name)) {
      ctx.skip(w.id, 'foreign-data wrapper', n, GLOBAL_REASON);
      continue;
    }
    ctx.add(
      w.id,
      'foreign-data wrapper',
      `foreign-data wrapper ${n}`,
      n,
      `CREATE FOREIGN DATA WRAPPER ${n}${w.handler ? ` HANDLER ${ctx.rw(w.handler, n)}` : ''}${w.validator ? ` VALIDATOR ${ctx.rw(w.validator, n)}` : ''}${opts(publicOptions(ctx, w.options, 'foreign-data wrapper', n))};` +
        ctx.superuserOwner('FOREIGN DATA WRAPPER', n, w.owner, `foreign-data wrapper ${n}`) +
        ctx.comment(`FOREIGN DATA WRAPPER ${n}`, w.comment) +
        ctx.grants('FOREIGN DATA WRAPPER', n, w.acl, w.owner),
      `DROP FOREIGN DATA WRAPPER IF EXISTS ${n} CASCADE;`,
    );
  }
}

export function foreignServers(ctx: DdlContext): void {
  const need = needed(ctx);
  for (const s of ctx.m.servers) {
    const n = quoteIdent(s.name);
    ctx.names.set(s.id, `server ${n}`);
    if (!ctx.globals && !need.srv.has(s.name)) {
      ctx.skip(s.id, 'foreign server', n, GLOBAL_REASON);
      continue;
    }
    ctx.add(
      s.id,
      'foreign server',
      `foreign server ${n}`,
      n,
      `CREATE SERVER ${n}${s.type != null ? ` TYPE ${quoteLiteral(s.type)}` : ''}${s.version != null ? ` VERSION ${quoteLiteral(s.version)}` : ''} FOREIGN DATA WRAPPER ${quoteIdent(s.fdw)}${opts(publicOptions(ctx, s.options, 'foreign server', n))};` +
        ctx.owner('SERVER', n, s.owner) +
        ctx.comment(`SERVER ${n}`, s.comment) +
        ctx.grants('FOREIGN SERVER', n, s.acl, s.owner),
      `DROP SERVER IF EXISTS ${n} CASCADE;`,
    );
  }
}

export function userMappings(ctx: DdlContext): void {
  const need = needed(ctx);
  for (const u of ctx.m.userMappings) {
    const who = u.user === '' ? 'PUBLIC' : quoteIdent(u.user);
    const n = `FOR ${who} SERVER ${quoteIdent(u.server)}`;
    ctx.names.set(u.id, `user mapping ${n}`);
    if (!ctx.globals && !need.srv.has(u.server)) {
      ctx.skip(u.id, 'user mapping', n, GLOBAL_REASON);
      continue;
    }
    const o = publicOptions(ctx, u.options, 'user mapping', n);
    if (u.hidden)
      ctx.notMigrated.push({
        kind: 'user mapping options',
        name: n,
        reason:
          'its options are visible only to a superuser, the mapped user or the server owner; created without options',
      });
    ctx.add(
      u.id,
      'user mapping',
      `user mapping ${who} server ${quoteIdent(u.server)}`,
      n,
      `CREATE USER MAPPING ${n}${opts(o)};`,
      `DROP USER MAPPING IF EXISTS ${n};`,
    );
  }
}

export function foreignTables(ctx: DdlContext): void {
  for (const f of ctx.m.foreignTables) {
    if (!ctx.sel.tableSelected(f.schema, f.name)) continue;
    const n = ctx.tq(f);
    ctx.names.set(f.id, n);
    if (f.unsupported) {
      ctx.skip(f.id, 'foreign table', n, f.unsupported);
      continue;
    }
    const what = `foreign table ${n}`;
    const cols = f.columns.map(
      (c) =>
        `${quoteIdent(c.name)} ${ctx.rw(c.type, what)}${opts(c.options)}${ctx.collate(c.collation)}${c.notNull ? ' NOT NULL' : ''}${c.default != null ? ` DEFAULT ${ctx.rw(c.default, what)}` : ''}`,
    );
    let sql = `CREATE FOREIGN TABLE ${n} (${cols.length ? `\n    ${cols.join(',\n    ')}\n` : ''})\nSERVER ${quoteIdent(f.server)}${opts(f.options)};`;
    sql += ctx.owner('FOREIGN TABLE', n, f.owner) + ctx.comment(`FOREIGN TABLE ${n}`, f.comment);
    for (const c of f.columns) sql += ctx.comment(`COLUMN ${n}.${quoteIdent(c.name)}`, c.comment);
    sql += ctx.grants('TABLE', n, f.acl, f.owner);
    const key = `foreign table ${tableKey(f.schema, f.name)}`;
    ctx.add(f.id, 'foreign table', key, n, sql, `DROP FOREIGN TABLE IF EXISTS ${n} CASCADE;`);
  }
}

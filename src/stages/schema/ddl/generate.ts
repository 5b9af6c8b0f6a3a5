/**
 * DDL generation: CatalogModel + Selection → ordered Statements. Pure: no I/O.
 *
 *  pre   schemas, extensions, collations, conversions, types, domains, sequences, functions,
 *        operators, operator families/classes, casts, text search dictionaries/configurations,
 *        foreign-data wrappers, servers, user mappings, tables (columns, defaults, NOT NULL, CHECK),
 *        foreign tables, views, materialized views (WITH NO DATA), rules, policies, statistics
 *        objects, indexes and keys of partitioned parents (ON ONLY, cheap) — ordered by pg_depend.
 *  early per leaf table: indexes, PK/UNIQUE (CREATE UNIQUE INDEX + ADD CONSTRAINT … USING INDEX),
 *        EXCLUDE, ATTACH to the parent's index. Statement.table is the CopyTable key.
 *  late  foreign keys, triggers, REFRESH MATERIALIZED VIEW and materialized-view indexes, then
 *        publications, default privileges (they would change the ACL of objects created after
 *        them) and event triggers (they would fire on our own DDL).
 */
import type {
  Acl,
  CatalogModel,
  ColumnObj,
  FunctionObj,
  IndexObj,
  NotMigrated,
  OpFamilyMember,
  OpFamilyProc,
  TableObj,
  TypeObj,
  ViewObj,
} from '../catalog/model.js';
import type { Selection } from '../../../core/selection.js';
import { tableKey } from '../../../core/selection.js';
import { qualify, quoteIdent, quoteLiteral } from '../../../core/ident.js';
import type { Statement } from '../../../core/statement.js';
import { rewriteNames, type NameMap } from './rewrite.js';
import { topoSort } from './toposort.js';
import { selectModel } from './closure.js';
import { baseTypeSql } from './basetype.js';
import { needsOwnColumnOrder } from './inherit-order.js';
import { lateClosure, placeholderId, placeholderSql, planPlaceholders } from './placeholders.js';
import { shellId, supportFuncIds } from '../catalog/basetypes.js';

export interface GeneratedSchema {
  statements: Statement[];
  warnings: string[];
  notMigrated: NotMigrated[];
  /** Selected objects and where they go (for `plan`). */
  objects: { kind: string; source: string; target: string }[];
  /** Keys of selected tables that are not created (not migrated): their rows are not copied. */
  tablesNotCreated: string[];
}

interface PreNode {
  id: string;
  rank: number;
  stmt: Statement;
}

const RANK: Record<string, number> = {
  schema: 0,
  extension: 1,
  'shell type': 2,
  type: 2,
  domain: 2,
  sequence: 3,
  function: 4,
  procedure: 4,
  aggregate: 5,
  table: 6,
  default: 7,
  'sequence owned by': 8,
  view: 9,
  'materialized view': 9,
  rule: 10,
  policy: 11,
  collation: 1,
  'foreign-data wrapper': 1,
  'foreign server': 1.1,
  'user mapping': 1.2,
  conversion: 2,
  'text search dictionary': 2,
  'text search configuration': 3,
  operator: 5,
  'operator family': 5,
  'operator class': 5,
  cast: 5,
  'foreign table': 6,
  'statistics object': 12,
};

export function generateDdl(source: CatalogModel, sel: Selection): GeneratedSchema {
  const { model: m, warnings } = selectModel(source, sel);
  const task = sel.task;
  const notMigrated: NotMigrated[] = [...m.notMigrated];
  const objects: (GeneratedSchema['objects'][number] & { id: string })[] = [];

  // ---- selection ----
  const tablesById = new Map(m.tables.map((t) => [t.id, t]));
  const rootOf = (t: TableObj): TableObj => {
    let cur = t;
    for (let i = 0; i < 64 && cur.isPartition && cur.parents[0]; i++) {
      const p = tablesById.get(cur.parents[0].id);
      if (!p) break;
      cur = p;
    }
    return cur;
  };
  const tableSel = (t: TableObj) =>
    sel.tableSelected(t.schema, t.name) ||
    (t.isPartition && sel.schemaSelected(t.schema) && sel.tableSelected(rootOf(t).schema, rootOf(t).name));
  const selTables = new Map(m.tables.filter(tableSel).map((t) => [t.id, t]));
  const viewsById = new Map(m.views.map((v) => [v.id, v]));

  // ---- names ----
  const map: NameMap = { schemas: new Map(), tables: new Map() };
  for (const [from, to] of Object.entries(task.mapSchemas)) if (from !== to) map.schemas.set(from, to);
  for (const t of m.tables) {
    const tn = sel.targetTable(t.schema, t.name).name;
    if (tn !== t.name) map.tables.set(`${t.schema}\u0000${t.name}`, tn);
  }
  const colMaps = new Map<string, Map<string, string>>();
  for (const t of m.tables) {
    const cm = new Map<string, string>();
    for (const c of t.columns) {
      const tc = sel.targetColumn(t.schema, t.name, c.name);
      if (tc !== c.name) cm.set(c.name, tc);
    }
    if (cm.size) colMaps.set(t.id, cm);
  }
  /** Columns of a table left out by its column subset. */
  const omitted = (id: string): string[] => {
    const t = tablesById.get(id);
    const subset = t && sel.columnSubset(t.schema, t.name);
    return t && subset ? t.columns.filter((c) => !subset.includes(c.name)).map((c) => c.name) : [];
  };
  const leftOut = (tableId: string, kind: string, name: string, ...texts: (string | null)[]): boolean => {
    const cols = omitted(tableId);
    if (!cols.length || !usesColumn(texts, cols)) return false;
    notMigrated.push({ kind, name, reason: 'uses a column left out by the column subset' });
    return true;
  };
  const tq = (t: { schema: string; name: string }) => {
    const tt = sel.targetTable(t.schema, t.name);
    return qualify(tt.schema, tt.name);
  };
  const q = (schema: string, name: string) => qualify(sel.targetSchema(schema), name);
  const rw = (sql: string, what: string, cols?: Map<string, string>): string => {
    const r = rewriteNames(sql, map, cols);
    if (r.unsafe)
      warnings.push(
        `${what}: its text mentions a renamed schema/table/column inside a string or function body, which pgferry does not rewrite; check it on the target`,
      );
    return r.sql;
  };
  const collate = (c: string[] | null) => (c ? ` COLLATE ${q(c[0], c[1])}` : '');

  // ---- owner / ACL / comment helpers ----
  const owner = (kw: string, name: string, role: string) =>
    task.noOwner ? '' : `\nALTER ${kw} ${name} OWNER TO ${quoteIdent(task.ownerTo ?? role)};`;
  const grants = (kw: string, name: string, acl: Acl[] | null, role: string, cols = '') => {
    if (task.noAcl || acl === null) return '';
    let s = cols ? '' : `\nREVOKE ALL ON ${kw} ${name} FROM PUBLIC;`;
    if (!cols && task.noOwner === false && task.ownerTo === undefined && !acl.some((a) => a.grantee === role))
      s += `\nREVOKE ALL ON ${kw} ${name} FROM ${quoteIdent(role)};`;
    for (const a of acl) {
      if (a.grantee === role && !cols) continue;
      if (a.grantee === m.sourceUser && a.grantee !== role) {
        leftOutGrant(kw, name + cols, a);
        continue;
      }
      s += `\nGRANT ${a.privilege}${cols} ON ${kw} ${name} TO ${a.grantee === '' ? 'PUBLIC' : quoteIdent(a.grantee)}${a.grantable ? ' WITH GRANT OPTION' : ''};`;
    }
    return s;
  };
  /** Grants to the account pgferry reads the source as exist for the migration only: reported, not carried. */
  const leftOutGrant = (kw: string, name: string, a: Acl) =>
    notMigrated.push({
      kind: 'grant',
      name: `${a.privilege} on ${kw.toLowerCase()} ${name} to ${quoteIdent(a.grantee)}`,
      reason: 'held by the source migration account; it exists only for the migration and is not carried to the target',
    });
  /** Schema public keeps the target's owner when the source's is its default (bootstrap superuser, pg_database_owner). */
  const defaultOwner = (s: { name: string; owner: string }) =>
    s.name === 'public' && (s.owner === 'pg_database_owner' || s.owner === m.bootstrapUser);
  const schemaAuth = (s: { name: string; owner: string }) =>
    task.noOwner || defaultOwner(s) ? '' : ` AUTHORIZATION ${quoteIdent(task.ownerTo ?? s.owner)}`;
  const comment = (what: string, c: string | null) => (c == null ? '' : `\nCOMMENT ON ${what} IS ${quoteLiteral(c)};`);

  const pre: PreNode[] = [];
  const early: Statement[] = [];
  const late: Statement[] = [];
  const add = (id: string, kind: string, key: string, name: string, sql: string, drop?: string) => {
    pre.push({ id, rank: RANK[kind] ?? 20, stmt: { key, kind, name, section: 'pre', sql, ...(drop ? { drop } : {}) } });
    objects.push({ id, kind, source: key.slice(kind.length + 1), target: name });
  };

  // ---- schemas, extensions ----
  const selSchemas = m.schemas.filter((s) => sel.schemaSelected(s.name));
  for (const s of selSchemas) {
    const n = quoteIdent(sel.targetSchema(s.name));
    add(
      s.id,
      'schema',
      `schema ${quoteIdent(s.name)}`,
      n,
      // AUTHORIZATION: the owner needs no CREATE on the database, only the account does.
      `CREATE SCHEMA IF NOT EXISTS ${n}${schemaAuth(s)};` +
        (defaultOwner(s) ? '' : owner('SCHEMA', n, s.owner)) +
        comment(`SCHEMA ${n}`, s.comment) +
        grants('SCHEMA', n, s.acl, s.owner),
    );
  }
  for (const e of m.extensions) {
    if (!sel.schemaSelected(e.schema) && e.schema !== 'public') {
      notMigrated.push({ kind: 'extension', name: e.name, reason: `its schema ${e.schema} is not selected` });
      continue;
    }
    add(
      e.id,
      'extension',
      `extension ${quoteIdent(e.name)}`,
      e.name,
      `CREATE EXTENSION IF NOT EXISTS ${quoteIdent(e.name)} WITH SCHEMA ${quoteIdent(sel.targetSchema(e.schema))};` +
        comment(`EXTENSION ${quoteIdent(e.name)}`, e.comment),
    );
  }

  // ---- types ----
  for (const t of m.types) {
    if (!sel.schemaSelected(t.schema)) continue;
    if (t.kind === 'range' && t.range?.canonical) continue; // reported by the catalog
    const n = q(t.schema, t.name);
    const what = `type ${n}`;
    let sql: string;
    if (t.kind === 'base') {
      // Shell first: the I/O functions take or return it; the full type names them (catalog/basetypes.ts).
      add(
        shellId(t),
        'shell type',
        `shell type ${qualify(t.schema, t.name)}`,
        n,
        `CREATE TYPE ${n};`,
        `DROP TYPE IF EXISTS ${n} CASCADE;`,
      );
      sql = baseTypeSql(n, t.base!, (x) => rw(x, what));
    } else if (t.kind === 'enum') sql = `CREATE TYPE ${n} AS ENUM (${t.labels!.map(quoteLiteral).join(', ')});`;
    else if (t.kind === 'composite')
      sql = `CREATE TYPE ${n} AS (${t.attrs!.map((a) => `\n    ${quoteIdent(a.name)} ${rw(a.type, what)}${collate(a.collation)}`).join(',')}\n);`;
    else if (t.kind === 'range') {
      const r = t.range!;
      const parts = [`SUBTYPE = ${rw(r.subtype, what)}`];
      if (r.opclass) parts.push(`SUBTYPE_OPCLASS = ${rw(r.opclass, what)}`);
      if (r.collation) parts.push(`COLLATION = ${q(r.collation[0], r.collation[1])}`);
      if (r.subdiff) parts.push(`SUBTYPE_DIFF = ${rw(r.subdiff, what)}`);
      if (r.multirange && !r.defaultMultirange) parts.push(`MULTIRANGE_TYPE_NAME = ${q(t.schema, r.multirange)}`);
      sql = `CREATE TYPE ${n} AS RANGE (${parts.join(', ')});`;
    } else {
      const d = t.domain!;
      sql = `CREATE DOMAIN ${n} AS ${rw(d.base, what)}${collate(d.collation)}${d.default != null ? ` DEFAULT ${rw(d.default, what)}` : ''}${d.notNull ? ' NOT NULL' : ''}`;
      const later: string[] = [];
      for (const c of d.checks) {
        if (c.validated) sql += `\n    CONSTRAINT ${quoteIdent(c.name)} ${rw(c.def, what)}`;
        else later.push(`\nALTER DOMAIN ${n} ADD CONSTRAINT ${quoteIdent(c.name)} ${rw(c.def, what)};`);
      }
      sql +=
        ';' +
        later.join('') +
        d.checks.map((c) => comment(`CONSTRAINT ${quoteIdent(c.name)} ON DOMAIN ${n}`, c.comment)).join('');
    }
    const kw = t.kind === 'domain' ? 'DOMAIN' : 'TYPE';
    sql += owner(kw, n, t.owner) + comment(`${kw} ${n}`, t.comment) + grants(kw, n, t.acl, t.owner);
    add(
      t.id,
      t.kind === 'domain' ? 'domain' : 'type',
      `${t.kind === 'domain' ? 'domain' : 'type'} ${qualify(t.schema, t.name)}`,
      n,
      sql,
      t.kind === 'base' ? undefined : `DROP ${kw} IF EXISTS ${n} CASCADE;`,
    );
  }

  // ---- sequences ----
  const seqOpts = (s: CatalogModel['sequences'][number]) =>
    `START WITH ${s.start} INCREMENT BY ${s.increment} MINVALUE ${s.min} MAXVALUE ${s.max} CACHE ${s.cache}${s.cycle ? ' CYCLE' : ' NO CYCLE'}`;
  const identitySeq = new Map<string, CatalogModel['sequences'][number]>();
  for (const s of m.sequences) {
    if (s.identityOf) {
      identitySeq.set(`${s.identityOf.tableId}\u0000${s.identityOf.column}`, s);
      continue;
    }
    if (!sel.schemaSelected(s.schema)) continue;
    // a sequence owned by a table that is not selected stays behind with its table (as plan/sequences.ts)
    if (s.ownedBy && !selTables.has(s.ownedBy.tableId)) continue;
    const n = q(s.schema, s.name);
    add(
      s.id,
      'sequence',
      `sequence ${qualify(s.schema, s.name)}`,
      n,
      `CREATE ${s.unlogged ? 'UNLOGGED ' : ''}SEQUENCE ${n} AS ${s.type} ${seqOpts(s)};` +
        owner('SEQUENCE', n, s.owner) +
        comment(`SEQUENCE ${n}`, s.comment) +
        grants('SEQUENCE', n, s.acl, s.owner),
      `DROP SEQUENCE IF EXISTS ${n} CASCADE;`,
    );
    if (s.ownedBy) {
      const t = selTables.get(s.ownedBy.tableId);
      const subset = t && sel.columnSubset(t.schema, t.name);
      if (t && (!subset || subset.includes(s.ownedBy.column))) {
        const col = quoteIdent(sel.targetColumn(t.schema, t.name, s.ownedBy.column));
        pre.push({
          id: `owned:${s.oid}`,
          rank: RANK['sequence owned by'],
          stmt: {
            key: `sequence owned by ${qualify(s.schema, s.name)}`,
            kind: 'sequence owned by',
            name: n,
            section: 'pre',
            sql: `ALTER SEQUENCE ${n} OWNED BY ${tq(t)}.${col};`,
          },
        });
      }
    }
  }

  // ---- functions, procedures, aggregates ----
  const unselectedTables = m.tables
    .filter((t) => !selTables.has(t.id))
    .map((t) => {
      const name = qualify(t.schema, t.name);
      return { name, re: new RegExp(`(^|[^\\w."])${escapeRe(name)}($|[^\\w"])`) };
    });
  for (const f of m.functions) {
    if (!sel.schemaSelected(f.schema)) continue;
    const kind = f.kind === 'p' ? 'procedure' : f.kind === 'a' ? 'aggregate' : 'function';
    const kw = kind.toUpperCase();
    const sig = `${q(f.schema, f.name)}(${rw(f.identityArgs, `${kind} ${f.name}`)})`;
    const what = `${kind} ${sig}`;
    let sql: string;
    if (f.kind === 'a') sql = aggregateSql(f, q(f.schema, f.name), (s) => rw(s, what));
    else sql = rw(f.def!.trimEnd(), what) + ';';
    if (f.def) {
      const body = bodyOf(f.def);
      const hit =
        [...map.schemas.keys()].find((s) => body.includes(s)) ??
        [...map.tables.keys()].map((k) => k.split('\u0000')[1]).find((t) => body.includes(t));
      const missing = unselectedTables.find((u) => body.includes(u.name) && u.re.test(body));
      if (missing) warnings.push(`${what}: its body refers to ${missing.name}, which is not selected`);
      if (hit !== undefined)
        warnings.push(
          `${what}: its body mentions ${JSON.stringify(hit)}, which is renamed on the target; function bodies are not rewritten, check it`,
        );
    }
    sql +=
      owner(kw, sig, f.owner) +
      comment(`${kw} ${sig}`, f.comment) +
      grants(kind === 'aggregate' ? 'FUNCTION' : kw, sig, f.acl, f.owner);
    add(
      f.id,
      kind,
      `${kind} ${qualify(f.schema, f.name)}(${f.identityArgs})`,
      sig,
      sql,
      `DROP ${kw} IF EXISTS ${sig} CASCADE;`,
    );
  }

  // ---- tables ----
  for (const t of selTables.values()) {
    const n = tq(t);
    const what = `table ${n}`;
    const cm = colMaps.get(t.id);
    const subset = sel.columnSubset(t.schema, t.name);
    const cols = t.columns.filter((c) => {
      if (subset && !subset.includes(c.name)) return false;
      if (c.generated === 's' && subset && usesColumn([c.default], omitted(t.id))) {
        notMigrated.push({
          kind: 'generated column',
          name: `${n}.${quoteIdent(c.name)}`,
          reason: 'its expression uses a column left out by the column subset',
        });
        return false;
      }
      return true;
    });
    const tcol = (c: ColumnObj) => quoteIdent(sel.targetColumn(t.schema, t.name, c.name));
    const after: string[] = [];
    const parentCol = (c: ColumnObj): ColumnObj | undefined => {
      for (const p of t.parents) {
        const pc = tablesById.get(p.id)?.columns.find((x) => x.name === c.name);
        if (pc) return pc;
      }
      return undefined;
    };
    const items: string[] = [];
    const ownOrder = needsOwnColumnOrder(t, tablesById);
    for (const c of cols) {
      if (!c.isLocal && !ownOrder) {
        // Inherited: comes from the parent; state only what differs.
        const pc = parentCol(c);
        if (c.notNull && pc && !pc.notNull) after.push(`ALTER TABLE ONLY ${n} ALTER COLUMN ${tcol(c)} SET NOT NULL;`);
        if (
          c.default != null &&
          !c.defaultHasFuncDeps &&
          c.generated === '' &&
          (!pc || pc.default !== c.default || pc.defaultHasFuncDeps)
        ) {
          after.push(`ALTER TABLE ONLY ${n} ALTER COLUMN ${tcol(c)} SET DEFAULT ${rw(c.default, what, cm)};`);
        }
        if (c.default == null && pc?.default != null && !pc.defaultHasFuncDeps && pc.generated === '')
          after.push(`ALTER TABLE ONLY ${n} ALTER COLUMN ${tcol(c)} DROP DEFAULT;`);
        continue;
      }
      let s = `${tcol(c)} ${rw(c.type, what)}${collate(c.collation)}`;
      if (c.generated === 's') s += ` GENERATED ALWAYS AS (${rw(c.default!, what, cm)}) STORED`;
      else if (c.identity) {
        const seq = identitySeq.get(`${t.id}\u0000${c.name}`);
        s += ` GENERATED ${c.identity === 'a' ? 'ALWAYS' : 'BY DEFAULT'} AS IDENTITY`;
        if (seq) s += ` (SEQUENCE NAME ${q(seq.schema, seq.name)} ${seqOpts(seq)})`;
      } else if (c.default != null && !c.defaultHasFuncDeps) s += ` DEFAULT ${rw(c.default, what, cm)}`;
      if (c.notNull) s += ' NOT NULL';
      items.push(s);
    }
    for (const k of t.checks) {
      if ((!k.isLocal && !ownOrder) || leftOut(t.id, 'check constraint', `${quoteIdent(k.name)} ON ${n}`, k.def))
        continue;
      const def = rw(k.def, what, cm);
      if (!k.validated) after.push(`ALTER TABLE ${n} ADD CONSTRAINT ${quoteIdent(k.name)} ${def};`);
      else items.push(`CONSTRAINT ${quoteIdent(k.name)} ${def}`);
    }
    let sql: string;
    const body = items.length ? ` (\n    ${items.join(',\n    ')}\n)` : t.isPartition ? '' : ' (\n)';
    const opts = t.options?.length ? ` WITH (${t.options.map(relOption).join(', ')})` : '';
    const pkey = t.partKey ? ` PARTITION BY ${rw(t.partKey, what, cm)}` : '';
    const create = `CREATE ${t.unlogged ? 'UNLOGGED ' : ''}TABLE ${n}`;
    if (t.isPartition) {
      sql = `${create} PARTITION OF ${tq(t.parents[0])}${body}\n${rw(t.partBound!, what, cm)}${pkey}${opts};`;
    } else {
      const inh = t.parents.length && !ownOrder ? ` INHERITS (${t.parents.map((p) => tq(p)).join(', ')})` : '';
      sql = `${create}${body}${inh}${pkey}${opts};`;
    }
    if (after.length) sql += '\n' + after.join('\n');
    if (ownOrder) for (const p of t.parents) sql += `\nALTER TABLE ONLY ${n} INHERIT ${tq(p)};`;
    for (const c of cols) {
      if (c.storage)
        sql += `\nALTER TABLE ONLY ${n} ALTER COLUMN ${tcol(c)} SET STORAGE ${({ p: 'PLAIN', e: 'EXTERNAL', m: 'MAIN', x: 'EXTENDED' } as Record<string, string>)[c.storage]};`;
      if (c.statTarget != null)
        sql += `\nALTER TABLE ONLY ${n} ALTER COLUMN ${tcol(c)} SET STATISTICS ${c.statTarget};`;
    }
    if (t.rls) sql += `\nALTER TABLE ${n} ENABLE ROW LEVEL SECURITY;`;
    if (t.forceRls) sql += `\nALTER TABLE ${n} FORCE ROW LEVEL SECURITY;`;
    sql += owner('TABLE', n, t.owner) + comment(`TABLE ${n}`, t.comment);
    for (const c of cols) sql += comment(`COLUMN ${n}.${tcol(c)}`, c.comment);
    for (const k of t.checks)
      if (k.isLocal || ownOrder) sql += comment(`CONSTRAINT ${quoteIdent(k.name)} ON ${n}`, k.comment);
    sql += grants('TABLE', n, t.acl, t.owner);
    for (const c of cols) if (c.acl) sql += grants('TABLE', n, c.acl, t.owner, ` (${tcol(c)})`);
    add(t.id, 'table', `table ${tableKey(t.schema, t.name)}`, n, sql, `DROP TABLE IF EXISTS ${n} CASCADE;`);

    for (const c of cols) {
      if (c.default != null && c.defaultHasFuncDeps && c.generated === '') {
        pre.push({
          id: `default:${t.oid}:${c.num}`,
          rank: RANK.default,
          stmt: {
            key: `default ${tableKey(t.schema, t.name)}.${quoteIdent(c.name)}`,
            kind: 'default',
            name: `${n}.${tcol(c)}`,
            section: 'pre',
            sql: `ALTER TABLE ONLY ${n} ALTER COLUMN ${tcol(c)} SET DEFAULT ${rw(c.default, what, cm)};`,
          },
        });
      }
    }
  }

  // ---- views ----
  const mviewOrder: ViewObj[] = [];
  for (const v of m.views) {
    if (!sel.schemaSelected(v.schema)) continue;
    const n = q(v.schema, v.name);
    const kind = v.relkind === 'm' ? 'materialized view' : 'view';
    const kw = kind.toUpperCase();
    const opts = v.options?.length ? ` WITH (${v.options.map(relOption).join(', ')})` : '';
    const def = rw(v.def.trim().replace(/;\s*$/, ''), `${kind} ${n}`);
    let sql = `CREATE ${kw} ${n}${opts} AS\n${def}${v.relkind === 'm' ? '\nWITH NO DATA' : ''};`;
    sql += owner(kw, n, v.owner) + comment(`${kw} ${n}`, v.comment);
    for (const c of v.columnComments) sql += comment(`COLUMN ${n}.${quoteIdent(c.name)}`, c.comment);
    sql += grants('TABLE', n, v.acl, v.owner);
    add(v.id, kind, `${kind} ${qualify(v.schema, v.name)}`, n, sql, `DROP ${kw} IF EXISTS ${n} CASCADE;`);
    if (v.relkind === 'm') mviewOrder.push(v);
  }
  // Views over tables with renamed columns cannot be rewritten safely.
  for (const d of m.dependencies) {
    const v = viewsById.get(d.from);
    const t = tablesById.get(d.to);
    if (v && t && selTables.has(t.id) && sel.schemaSelected(v.schema) && omitted(t.id).length) {
      warnings.push(
        `view ${q(v.schema, v.name)}: reads table ${tq(t)}, which is copied with a column subset; the view fails if it uses a left-out column`,
      );
    }
  }
  if (colMaps.size) {
    for (const d of m.dependencies) {
      const v = viewsById.get(d.from);
      if (v && colMaps.has(d.to) && sel.schemaSelected(v.schema)) {
        warnings.push(
          `view ${q(v.schema, v.name)}: refers to table ${tq(tablesById.get(d.to)!)} whose columns are renamed; the view text is not rewritten`,
        );
      }
    }
  }

  const relName = (id: string) => {
    const t = tablesById.get(id);
    if (t) return { obj: t as { schema: string; name: string }, selected: selTables.has(id) };
    const v = viewsById.get(id);
    if (v) return { obj: v as { schema: string; name: string }, selected: sel.schemaSelected(v.schema) };
    const f = m.foreignTables.find((x) => x.id === id);
    if (f) return { obj: f as { schema: string; name: string }, selected: sel.tableSelected(f.schema, f.name) };
    return undefined;
  };

  // ---- rules, policies ----
  for (const r of m.rules) {
    const rel = relName(r.tableId);
    if (!rel?.selected) continue;
    const n = tq(rel.obj);
    add(
      r.id,
      'rule',
      `rule ${tableKey(rel.obj.schema, rel.obj.name)}.${quoteIdent(r.name)}`,
      `${quoteIdent(r.name)} ON ${n}`,
      rw(r.def.trim().replace(/;\s*$/, ''), `rule ${r.name} on ${n}`, colMaps.get(r.tableId)) +
        ';' +
        comment(`RULE ${quoteIdent(r.name)} ON ${n}`, r.comment),
      `DROP RULE IF EXISTS ${quoteIdent(r.name)} ON ${n};`,
    );
  }
  for (const p of m.policies) {
    const rel = relName(p.tableId);
    if (!rel?.selected) continue;
    const n = tq(rel.obj);
    if (leftOut(p.tableId, 'policy', `${quoteIdent(p.name)} ON ${n}`, p.qual, p.withCheck)) continue;
    const what = `policy ${p.name} on ${n}`;
    const cmd = ({ r: 'SELECT', a: 'INSERT', w: 'UPDATE', d: 'DELETE', '*': 'ALL' } as Record<string, string>)[p.cmd];
    const cm = colMaps.get(p.tableId);
    let sql = `CREATE POLICY ${quoteIdent(p.name)} ON ${n}${p.permissive ? '' : ' AS RESTRICTIVE'} FOR ${cmd}`;
    sql += ` TO ${p.roles.map((r) => (r === '' ? 'PUBLIC' : quoteIdent(r))).join(', ')}`;
    if (p.qual != null) sql += ` USING (${rw(p.qual, what, cm)})`;
    if (p.withCheck != null) sql += ` WITH CHECK (${rw(p.withCheck, what, cm)})`;
    sql += ';' + comment(`POLICY ${quoteIdent(p.name)} ON ${n}`, p.comment);
    add(
      p.id,
      'policy',
      `policy ${tableKey(rel.obj.schema, rel.obj.name)}.${quoteIdent(p.name)}`,
      `${quoteIdent(p.name)} ON ${n}`,
      sql,
      `DROP POLICY IF EXISTS ${quoteIdent(p.name)} ON ${n};`,
    );
  }

  // ---- collations, conversions, operators, operator families/classes, casts, text search, foreign data, statistics ----
  /** Global objects (not in a schema) go along when the whole database is migrated, i.e. without includeSchemas. */
  const globals = task.includeSchemas.length === 0;
  const globalReason = 'global object (not in a schema); migrated only when no includeSchemas filter is set';
  /** Objects pgferry reads but does not create (their dependents are reported too). */
  const unmigrated = new Map<string, string>(m.skipped.map((x) => [x.id, 'reported by the catalog reader']));
  const names = new Map<string, string>(m.skipped.map((x) => [x.id, x.name]));
  const skip = (id: string, kind: string, name: string, reason: string) => {
    notMigrated.push({ kind, name, reason });
    unmigrated.set(id, reason);
  };
  /** Generic options that hold secrets are never printed: reported instead. */
  const secretOption = (k: string) => /password|secret/i.test(k);
  const publicOptions = (o: [string, string][] | null, kind: string, name: string) => {
    for (const [k] of o ?? []) {
      if (secretOption(k))
        notMigrated.push({
          kind: `${kind} option`,
          name: `${k} of ${name}`,
          reason: 'secrets are not copied; set it on the target yourself (ALTER … OPTIONS (ADD …))',
        });
    }
    return o ? o.filter(([k]) => !secretOption(k)) : null;
  };
  const opts = (o: [string, string][] | null) =>
    o?.length ? ` OPTIONS (${o.map(([k, v]) => `${quoteIdent(k)} ${quoteLiteral(v)}`).join(', ')})` : '';
  /** schema.operator (operator names are not identifiers: only the schema is quoted). */
  const opName = (schema: string, name: string) => `${quoteIdent(sel.targetSchema(schema))}.${name}`;
  const opArgs = (l: string | null, r: string | null, what: string) =>
    `(${l ? rw(l, what) : 'NONE'}, ${r ? rw(r, what) : 'NONE'})`;

  for (const c of m.collations) {
    if (!sel.schemaSelected(c.schema)) continue;
    const n = q(c.schema, c.name);
    names.set(c.id, n);
    const p = [`provider = ${({ c: 'libc', i: 'icu', b: 'builtin' } as Record<string, string>)[c.provider] ?? 'libc'}`];
    if (!c.deterministic) p.push('deterministic = false');
    if (c.provider === 'c') {
      if (c.lcCollate === c.lcCtype) p.push(`locale = ${quoteLiteral(c.lcCollate ?? '')}`);
      else p.push(`lc_collate = ${quoteLiteral(c.lcCollate ?? '')}`, `lc_ctype = ${quoteLiteral(c.lcCtype ?? '')}`);
    } else p.push(`locale = ${quoteLiteral(c.locale ?? c.lcCollate ?? '')}`);
    if (c.rules != null) p.push(`rules = ${quoteLiteral(c.rules)}`);
    add(
      c.id,
      'collation',
      `collation ${qualify(c.schema, c.name)}`,
      n,
      `CREATE COLLATION ${n} (${p.join(', ')});` +
        owner('COLLATION', n, c.owner) +
        comment(`COLLATION ${n}`, c.comment),
      `DROP COLLATION IF EXISTS ${n} CASCADE;`,
    );
  }

  for (const c of m.conversions) {
    if (!sel.schemaSelected(c.schema)) continue;
    const n = q(c.schema, c.name);
    names.set(c.id, n);
    add(
      c.id,
      'conversion',
      `conversion ${qualify(c.schema, c.name)}`,
      n,
      `CREATE ${c.isDefault ? 'DEFAULT ' : ''}CONVERSION ${n} FOR ${quoteLiteral(c.forEncoding)} TO ${quoteLiteral(c.toEncoding)} FROM ${rw(c.proc, `conversion ${n}`)};` +
        owner('CONVERSION', n, c.owner) +
        comment(`CONVERSION ${n}`, c.comment),
      `DROP CONVERSION IF EXISTS ${n};`,
    );
  }

  for (const o of m.operators) {
    if (!sel.schemaSelected(o.schema)) continue;
    const what = `operator ${o.schema}.${o.name}`;
    const sig = `${opName(o.schema, o.name)} ${opArgs(o.left, o.right, what)}`;
    names.set(o.id, sig);
    // A COMMUTATOR/NEGATOR that does not exist yet is created as a shell and filled in by its own CREATE OPERATOR.
    const p = [`FUNCTION = ${rw(o.proc, what)}`];
    if (o.left) p.push(`LEFTARG = ${rw(o.left, what)}`);
    if (o.right) p.push(`RIGHTARG = ${rw(o.right, what)}`);
    if (o.commutator) p.push(`COMMUTATOR = OPERATOR(${opName(o.commutator[0], o.commutator[1])})`);
    if (o.negator) p.push(`NEGATOR = OPERATOR(${opName(o.negator[0], o.negator[1])})`);
    if (o.restrict) p.push(`RESTRICT = ${rw(o.restrict, what)}`);
    if (o.join) p.push(`JOIN = ${rw(o.join, what)}`);
    if (o.hashes) p.push('HASHES');
    if (o.merges) p.push('MERGES');
    add(
      o.id,
      'operator',
      `operator ${quoteIdent(o.schema)}.${o.name}(${o.left ?? 'NONE'}, ${o.right ?? 'NONE'})`,
      sig,
      `CREATE OPERATOR ${opName(o.schema, o.name)} (\n    ${p.join(',\n    ')}\n);` +
        owner('OPERATOR', sig, o.owner) +
        comment(`OPERATOR ${sig}`, o.comment),
      `DROP OPERATOR IF EXISTS ${sig} CASCADE;`,
    );
  }

  const familyItems = (f: { ops: OpFamilyMember[]; procs: OpFamilyProc[] }, what: string) => [
    ...f.ops.map(
      (x) =>
        `OPERATOR ${x.strategy} ${opName(x.op[0], x.op[1])}${opArgs(x.op[2], x.op[3], what)}` +
        (x.purpose === 'o' && x.sortFamily ? ` FOR ORDER BY ${q(x.sortFamily[0], x.sortFamily[1])}` : ''),
    ),
    ...f.procs.map((x) => `FUNCTION ${x.num} (${rw(x.left, what)}, ${rw(x.right, what)}) ${rw(x.proc, what)}`),
  ];
  for (const f of m.opFamilies) {
    if (!sel.schemaSelected(f.schema)) continue;
    const n = q(f.schema, f.name);
    const using = `${n} USING ${quoteIdent(f.am)}`;
    names.set(f.id, using);
    const items = familyItems(f, `operator family ${n}`);
    add(
      f.id,
      'operator family',
      `operator family ${qualify(f.schema, f.name)} using ${f.am}`,
      using,
      `CREATE OPERATOR FAMILY ${using};` +
        (items.length ? `\nALTER OPERATOR FAMILY ${using} ADD\n    ${items.join(',\n    ')};` : '') +
        owner('OPERATOR FAMILY', using, f.owner) +
        comment(`OPERATOR FAMILY ${using}`, f.comment),
      `DROP OPERATOR FAMILY IF EXISTS ${using} CASCADE;`,
    );
  }
  for (const c of m.opClasses) {
    if (!sel.schemaSelected(c.schema)) continue;
    const n = q(c.schema, c.name);
    const using = `${n} USING ${quoteIdent(c.am)}`;
    names.set(c.id, using);
    const what = `operator class ${n}`;
    const items = familyItems(c, what);
    if (c.storage) items.push(`STORAGE ${rw(c.storage, what)}`);
    if (!items.length) items.push(`STORAGE ${rw(c.type, what)}`);
    add(
      c.id,
      'operator class',
      `operator class ${qualify(c.schema, c.name)} using ${c.am}`,
      using,
      `CREATE OPERATOR CLASS ${n}${c.isDefault ? ' DEFAULT' : ''} FOR TYPE ${rw(c.type, what)} USING ${quoteIdent(c.am)} FAMILY ${q(c.family[0], c.family[1])} AS\n    ${items.join(',\n    ')};` +
        owner('OPERATOR CLASS', using, c.owner) +
        comment(`OPERATOR CLASS ${using}`, c.comment),
      `DROP OPERATOR CLASS IF EXISTS ${using} CASCADE;`,
    );
  }

  for (const c of m.casts) {
    const what = `cast (${c.source} AS ${c.target})`;
    if (c.schemas.length ? !c.schemas.some((s) => sel.schemaSelected(s)) : !globals) continue;
    const sig = `(${rw(c.source, what)} AS ${rw(c.target, what)})`;
    names.set(c.id, `cast ${sig}`);
    const how =
      c.method === 'i' ? 'WITH INOUT' : c.method === 'b' ? 'WITHOUT FUNCTION' : `WITH FUNCTION ${rw(c.func!, what)}`;
    const ctx = c.context === 'a' ? ' AS ASSIGNMENT' : c.context === 'i' ? ' AS IMPLICIT' : '';
    add(
      c.id,
      'cast',
      `cast (${c.source} AS ${c.target})`,
      sig,
      `CREATE CAST ${sig} ${how}${ctx};` + comment(`CAST ${sig}`, c.comment),
      `DROP CAST IF EXISTS ${sig} CASCADE;`,
    );
  }

  for (const d of m.tsDicts) {
    if (!sel.schemaSelected(d.schema)) continue;
    const n = q(d.schema, d.name);
    names.set(d.id, n);
    if (!d.templateMigratable) {
      skip(
        d.id,
        'text search dictionary',
        n,
        `its template ${qualify(d.template[0], d.template[1])} is not migrated (text search templates are C code)`,
      );
      continue;
    }
    add(
      d.id,
      'text search dictionary',
      `text search dictionary ${qualify(d.schema, d.name)}`,
      n,
      `CREATE TEXT SEARCH DICTIONARY ${n} (\n    TEMPLATE = ${q(d.template[0], d.template[1])}${d.options ? `, ${d.options}` : ''}\n);` +
        owner('TEXT SEARCH DICTIONARY', n, d.owner) +
        comment(`TEXT SEARCH DICTIONARY ${n}`, d.comment),
      `DROP TEXT SEARCH DICTIONARY IF EXISTS ${n} CASCADE;`,
    );
  }
  for (const c of m.tsConfigs) {
    if (!sel.schemaSelected(c.schema)) continue;
    const n = q(c.schema, c.name);
    names.set(c.id, n);
    if (!c.parserMigratable) {
      skip(
        c.id,
        'text search configuration',
        n,
        `its parser ${qualify(c.parser[0], c.parser[1])} is not migrated (text search parsers are C code)`,
      );
      continue;
    }
    let sql = `CREATE TEXT SEARCH CONFIGURATION ${n} (\n    PARSER = ${q(c.parser[0], c.parser[1])}\n);`;
    for (const mp of c.maps)
      sql += `\nALTER TEXT SEARCH CONFIGURATION ${n} ADD MAPPING FOR ${quoteIdent(mp.token)} WITH ${mp.dicts.map((x) => q(x[0], x[1])).join(', ')};`;
    add(
      c.id,
      'text search configuration',
      `text search configuration ${qualify(c.schema, c.name)}`,
      n,
      sql + owner('TEXT SEARCH CONFIGURATION', n, c.owner) + comment(`TEXT SEARCH CONFIGURATION ${n}`, c.comment),
      `DROP TEXT SEARCH CONFIGURATION IF EXISTS ${n} CASCADE;`,
    );
  }

  // Servers (and their wrappers and user mappings) used by selected foreign tables come along even with includeSchemas.
  const neededSrv = new Set(m.foreignTables.filter((f) => sel.tableSelected(f.schema, f.name)).map((f) => f.server));
  const neededFdw = new Set(m.servers.filter((x) => neededSrv.has(x.name)).map((x) => x.fdw));
  for (const w of m.fdws) {
    const n = quoteIdent(w.name);
    names.set(w.id, `foreign-data wrapper ${n}`);
    if (!globals && !neededFdw.has(w.name)) {
      skip(w.id, 'foreign-data wrapper', n, globalReason);
      continue;
    }
    add(
      w.id,
      'foreign-data wrapper',
      `foreign-data wrapper ${n}`,
      n,
      `CREATE FOREIGN DATA WRAPPER ${n}${w.handler ? ` HANDLER ${rw(w.handler, n)}` : ''}${w.validator ? ` VALIDATOR ${rw(w.validator, n)}` : ''}${opts(publicOptions(w.options, 'foreign-data wrapper', n))};` +
        owner('FOREIGN DATA WRAPPER', n, w.owner) +
        comment(`FOREIGN DATA WRAPPER ${n}`, w.comment) +
        grants('FOREIGN DATA WRAPPER', n, w.acl, w.owner),
      `DROP FOREIGN DATA WRAPPER IF EXISTS ${n} CASCADE;`,
    );
  }
  for (const s of m.servers) {
    const n = quoteIdent(s.name);
    names.set(s.id, `server ${n}`);
    if (!globals && !neededSrv.has(s.name)) {
      skip(s.id, 'foreign server', n, globalReason);
      continue;
    }
    add(
      s.id,
      'foreign server',
      `foreign server ${n}`,
      n,
      `CREATE SERVER ${n}${s.type != null ? ` TYPE ${quoteLiteral(s.type)}` : ''}${s.version != null ? ` VERSION ${quoteLiteral(s.version)}` : ''} FOREIGN DATA WRAPPER ${quoteIdent(s.fdw)}${opts(publicOptions(s.options, 'foreign server', n))};` +
        owner('SERVER', n, s.owner) +
        comment(`SERVER ${n}`, s.comment) +
        grants('FOREIGN SERVER', n, s.acl, s.owner),
      `DROP SERVER IF EXISTS ${n} CASCADE;`,
    );
  }
  for (const u of m.userMappings) {
    const who = u.user === '' ? 'PUBLIC' : quoteIdent(u.user);
    const n = `FOR ${who} SERVER ${quoteIdent(u.server)}`;
    names.set(u.id, `user mapping ${n}`);
    if (!globals && !neededSrv.has(u.server)) {
      skip(u.id, 'user mapping', n, globalReason);
      continue;
    }
    const o = publicOptions(u.options, 'user mapping', n);
    if (u.hidden)
      notMigrated.push({
        kind: 'user mapping options',
        name: n,
        reason:
          'its options are visible only to a superuser, the mapped user or the server owner; created without options',
      });
    add(
      u.id,
      'user mapping',
      `user mapping ${who} server ${quoteIdent(u.server)}`,
      n,
      `CREATE USER MAPPING ${n}${opts(o)};`,
      `DROP USER MAPPING IF EXISTS ${n};`,
    );
  }
  for (const f of m.foreignTables) {
    if (!sel.tableSelected(f.schema, f.name)) continue;
    const n = tq(f);
    names.set(f.id, n);
    if (f.unsupported) {
      skip(f.id, 'foreign table', n, f.unsupported);
      continue;
    }
    const what = `foreign table ${n}`;
    const cols = f.columns.map(
      (c) =>
        `${quoteIdent(c.name)} ${rw(c.type, what)}${opts(c.options)}${collate(c.collation)}${c.notNull ? ' NOT NULL' : ''}${c.default != null ? ` DEFAULT ${rw(c.default, what)}` : ''}`,
    );
    let sql = `CREATE FOREIGN TABLE ${n} (${cols.length ? `\n    ${cols.join(',\n    ')}\n` : ''})\nSERVER ${quoteIdent(f.server)}${opts(f.options)};`;
    sql += owner('FOREIGN TABLE', n, f.owner) + comment(`FOREIGN TABLE ${n}`, f.comment);
    for (const c of f.columns) sql += comment(`COLUMN ${n}.${quoteIdent(c.name)}`, c.comment);
    sql += grants('TABLE', n, f.acl, f.owner);
    add(
      f.id,
      'foreign table',
      `foreign table ${tableKey(f.schema, f.name)}`,
      n,
      sql,
      `DROP FOREIGN TABLE IF EXISTS ${n} CASCADE;`,
    );
  }

  for (const s of m.statistics) {
    if (!sel.schemaSelected(s.schema)) continue;
    const n = q(s.schema, s.name);
    names.set(s.id, n);
    if (leftOut(s.tableId, 'statistics object', n, s.def.replace(/^CREATE STATISTICS \S+/, ''))) {
      unmigrated.set(s.id, 'column subset');
      continue;
    }
    let sql = rw(s.def, `statistics ${n}`, colMaps.get(s.tableId)) + ';';
    if (s.statTarget != null) sql += `\nALTER STATISTICS ${n} SET STATISTICS ${s.statTarget};`;
    add(
      s.id,
      'statistics object',
      `statistics object ${qualify(s.schema, s.name)}`,
      n,
      sql + owner('STATISTICS', n, s.owner) + comment(`STATISTICS ${n}`, s.comment),
      `DROP STATISTICS IF EXISTS ${n};`,
    );
  }

  // ---- drop what depends on unselected objects, then order ----
  const extraNames = new Map<string, string>([
    ...[
      m.collations,
      m.conversions,
      m.opFamilies,
      m.opClasses,
      m.tsDicts,
      m.tsConfigs,
      m.foreignTables,
      m.statistics,
    ].flatMap((l) => l.map((x): [string, string] => [x.id, qualify(x.schema, x.name)])),
    ...m.operators.map((x): [string, string] => [x.id, `${quoteIdent(x.schema)}.${x.name}`]),
    ...[m.fdws, m.servers].flatMap((l) => l.map((x): [string, string] => [x.id, quoteIdent(x.name)])),
    ...m.casts.map((x): [string, string] => [x.id, `cast (${x.source} AS ${x.target})`]),
    ...m.userMappings.map((x): [string, string] => [x.id, `user mapping for ${x.user || 'PUBLIC'} server ${x.server}`]),
  ]);
  const present = new Set(pre.map((p) => p.id));
  const known = new Set<string>([
    ...m.schemas.map((x) => x.id),
    ...m.extensions.map((x) => x.id),
    ...m.types.map((x) => x.id),
    ...m.sequences.map((x) => x.id),
    ...m.tables.map((x) => x.id),
    ...m.views.map((x) => x.id),
    ...m.functions.map((x) => x.id),
    ...extraNames.keys(),
    ...m.skipped.map((x) => x.id),
    ...m.types.filter((x) => x.kind === 'base').map(shellId),
  ]);
  const seqByOwnedId = new Map(m.sequences.map((x) => [`owned:${x.oid}`, x]));
  const deps = new Map<string, Set<string>>();
  for (const d of m.dependencies) {
    if (!deps.has(d.from)) deps.set(d.from, new Set());
    deps.get(d.from)!.add(d.to);
  }
  for (const p of pre) {
    const s = deps.get(p.id) ?? new Set<string>();
    if (p.id.startsWith('owned:')) {
      const seq = seqByOwnedId.get(p.id)!;
      s.add(seq.id);
      s.add(seq.ownedBy!.tableId);
    }
    if (p.id.startsWith('default:')) s.add(`rel:${p.id.split(':')[1]}`);
    if (p.id.startsWith('shell:')) {
      const t = m.types.find((x) => shellId(x) === p.id)!;
      const own = new Set(supportFuncIds(t));
      for (const d of deps.get(t.id) ?? []) if (!own.has(d)) s.add(d);
    }
    if (p.stmt.kind === 'type' && present.has(`shell:${p.id.slice(5)}`)) s.add(`shell:${p.id.slice(5)}`);
    const t = tablesById.get(p.id);
    if (t) for (const par of t.parents) s.add(par.id);
    deps.set(p.id, s);
  }
  const dropped = new Map<string, string>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const p of pre) {
      if (dropped.has(p.id)) continue;
      for (const d of deps.get(p.id) ?? []) {
        if ((known.has(d) && !present.has(d)) || dropped.has(d)) {
          const why =
            dropped.has(d) || unmigrated.has(d)
              ? `depends on ${describe(d)}, which is not migrated`
              : `depends on ${describe(d)}, which is not selected`;
          dropped.set(p.id, why);
          changed = true;
          break;
        }
      }
    }
  }
  /** Placeholders for views in cycles, reading themselves or needing a key (see ./placeholders.ts). */
  function viewPlaceholders(live: PreNode[]) {
    const plan = planPlaceholders(m.views, deps, new Set(live.map((p) => p.id)));
    for (const id of plan.placeholders) {
      const v = viewsById.get(id)!;
      const node = live.find((p) => p.id === id)!;
      const what = `view ${node.stmt.name}`;
      node.stmt.sql = node.stmt.sql.replace(/^CREATE VIEW /, 'CREATE OR REPLACE VIEW ');
      delete node.stmt.drop;
      const sql = placeholderSql(
        node.stmt.name,
        v,
        (t) => rw(t, what),
        (c) => q(c[0], c[1]),
      );
      pre.push({
        id: placeholderId(id),
        rank: RANK.view,
        stmt: {
          key: `view placeholder ${qualify(v.schema, v.name)}`,
          kind: 'view placeholder',
          name: node.stmt.name,
          section: 'pre',
          sql,
          drop: `DROP VIEW IF EXISTS ${node.stmt.name} CASCADE;`,
        },
      });
    }
    return plan;
  }
  function describe(id: string): string {
    if (id.startsWith('shell:')) id = `type:${id.slice(6)}`;
    const o =
      tablesById.get(id) ??
      viewsById.get(id) ??
      m.types.find((x) => x.id === id) ??
      m.functions.find((x) => x.id === id) ??
      m.sequences.find((x) => x.id === id);
    if (o) return qualify(o.schema, o.name);
    if (names.has(id)) return names.get(id)!;
    if (extraNames.has(id)) return extraNames.get(id)!;
    const pn = pre.find((x) => x.id === id);
    return pn ? pn.stmt.name : id;
  }
  const views = viewPlaceholders(pre.filter((p) => !dropped.has(p.id)));
  const kept = pre.filter((p) => {
    const why = dropped.get(p.id);
    if (why) notMigrated.push({ kind: p.stmt.kind, name: p.stmt.name, reason: why });
    return !why;
  });
  const ordered = topoSort(kept, deps, (cycle) =>
    warnings.push(`dependency cycle among ${cycle.join(', ')}; created in catalog order`),
  );
  const keptIds = new Set(ordered.map((p) => p.id));

  // ---- indexes and keys ----
  const idxParted: { depth: number; stmt: Statement }[] = [];
  const mviewIdx = new Map<string, Statement[]>();
  const depthOf = (t: TableObj) => {
    let d = 0;
    for (
      let c = t;
      c.isPartition && c.parents[0] && tablesById.get(c.parents[0].id);
      c = tablesById.get(c.parents[0].id)!
    )
      d++;
    return d;
  };
  const indexByName = new Map(m.indexes.map((x) => [`${x.schema}\u0000${x.name}`, x]));
  for (const ix of m.indexes) {
    const t = selTables.get(ix.tableId);
    const v = viewsById.get(ix.tableId);
    if (!(t && keptIds.has(t.id)) && !(v && keptIds.has(v.id))) continue;
    const owner_ = (t ?? v)!;
    const n = t ? tq(t) : q(v!.schema, v!.name);
    const what = `index ${ix.name} on ${n}`;
    const cm = colMaps.get(ix.tableId);
    const subset = t && sel.columnSubset(t.schema, t.name);
    if (
      (subset && ix.columns.some((a) => a > 0 && !subset.includes(t!.columns.find((c) => c.num === a)?.name ?? ''))) ||
      (t && ix.columns.some((a) => a === 0) && usesColumn([ix.def], omitted(t.id)))
    ) {
      notMigrated.push({
        kind: ix.constraint ? 'constraint' : 'index',
        name: `${q(ix.schema, ix.name)}`,
        reason: 'uses a column left out by the column subset',
      });
      continue;
    }
    const partitioned = t?.relkind === 'p';
    if (!ix.isValid && !partitioned) {
      notMigrated.push({
        kind: 'index',
        name: q(ix.schema, ix.name),
        reason: 'index is invalid on the source (failed CREATE INDEX CONCURRENTLY?)',
      });
      continue;
    }
    const iq = q(ix.schema, ix.name);
    const idxDef = rw(ix.def, what, cm);
    let sql: string;
    let kind = 'index';
    const c = ix.constraint;
    if (c) {
      kind = 'constraint';
      const usingIndex =
        !partitioned && c.type !== 'x' && !c.deferrable && !/ INCLUDE \(/.test(ix.def) && t !== undefined;
      if (usingIndex) {
        sql = `${idxDef};\nALTER TABLE ONLY ${n} ADD CONSTRAINT ${quoteIdent(c.name)} ${c.type === 'p' ? 'PRIMARY KEY' : 'UNIQUE'} USING INDEX ${quoteIdent(ix.name)};`;
      } else {
        sql = `ALTER TABLE ONLY ${n} ADD CONSTRAINT ${quoteIdent(c.name)} ${rw(c.def, what, cm)};`;
      }
      sql += comment(`CONSTRAINT ${quoteIdent(c.name)} ON ${n}`, c.comment);
    } else {
      sql = `${idxDef};`;
    }
    sql += comment(`INDEX ${iq}`, ix.comment);
    if (ix.parentIndex && t) {
      const pix = indexByName.get(`${ix.parentIndex.schema}\u0000${ix.parentIndex.name}`);
      if (pix && selTables.has(pix.tableId) && keptIds.has(pix.tableId))
        sql += `\nALTER INDEX ${q(ix.parentIndex.schema, ix.parentIndex.name)} ATTACH PARTITION ${iq};`;
    }
    if (ix.clustered) sql += `\nALTER TABLE ${n} CLUSTER ON ${quoteIdent(ix.name)};`;
    const key = `${kind} ${qualify(ix.schema, ix.name)}`;
    const drop = c
      ? `ALTER TABLE IF EXISTS ${n} DROP CONSTRAINT IF EXISTS ${quoteIdent(c.name)} CASCADE;`
      : `DROP INDEX IF EXISTS ${iq} CASCADE;`;
    if (v) {
      const list = mviewIdx.get(v.id) ?? [];
      list.push({ key, kind, name: iq, section: 'late', sql, drop });
      mviewIdx.set(v.id, list);
    } else if (partitioned) {
      idxParted.push({ depth: depthOf(t!), stmt: { key, kind, name: iq, section: 'pre', sql, drop } });
    } else {
      early.push({ key, kind, name: iq, section: 'early', sql, drop, table: tableKey(owner_.schema, owner_.name) });
    }
  }
  // Parents' indexes before the leaves' (they ATTACH to them); PK/UNIQUE before other indexes of the table.
  idxParted.sort((a, b) => a.depth - b.depth);
  early.sort((a, b) =>
    a.table! < b.table!
      ? -1
      : a.table! > b.table!
        ? 1
        : (a.kind === 'constraint' ? 0 : 1) - (b.kind === 'constraint' ? 0 : 1),
  );

  // ---- late: foreign keys, triggers, matviews ----
  for (const fk of m.foreignKeys) {
    const t = selTables.get(fk.tableId);
    if (!t || !keptIds.has(t.id)) continue;
    const n = tq(t);
    const ref = tablesById.get(fk.refTableId);
    const refSelected = ref !== undefined && selTables.has(ref.id) && keptIds.has(ref.id);
    if (!refSelected) {
      if (task.dropOrphanForeignKeys) {
        notMigrated.push({
          kind: 'foreign key',
          name: `${quoteIdent(fk.name)} ON ${n}`,
          reason: `references ${ref ? qualify(ref.schema, ref.name) : 'a table'} that is not selected`,
        });
        continue;
      }
      warnings.push(
        `foreign key ${fk.name} on ${n} references ${ref ? qualify(ref.schema, ref.name) : 'a table'} that is not selected; it will fail unless that table exists on the target (or use dropOrphanForeignKeys)`,
      );
    }
    const subset = sel.columnSubset(t.schema, t.name);
    if (subset && fk.columns.some((a) => !subset.includes(t.columns.find((c) => c.num === a)?.name ?? ''))) {
      notMigrated.push({
        kind: 'foreign key',
        name: `${quoteIdent(fk.name)} ON ${n}`,
        reason: 'uses a column left out by the column subset',
      });
      continue;
    }
    let def = rw(fk.def, `foreign key ${fk.name} on ${n}`, colMaps.get(t.id));
    if (ref && colMaps.has(ref.id)) {
      // REFERENCES s.t(cols): rename the referenced columns too.
      const i = def.indexOf(' REFERENCES ');
      if (i >= 0)
        def =
          def.slice(0, i) +
          rewriteNames(def.slice(i), { schemas: new Map(), tables: new Map() }, colMaps.get(ref.id)).sql;
    }
    late.push({
      key: `foreign key ${tableKey(t.schema, t.name)}.${quoteIdent(fk.name)}`,
      kind: 'foreign key',
      name: `${quoteIdent(fk.name)} ON ${n}`,
      section: 'late',
      sql:
        `ALTER TABLE ${n} ADD CONSTRAINT ${quoteIdent(fk.name)} ${def};` +
        comment(`CONSTRAINT ${quoteIdent(fk.name)} ON ${n}`, fk.comment),
      drop: `ALTER TABLE IF EXISTS ${n} DROP CONSTRAINT IF EXISTS ${quoteIdent(fk.name)};`,
    });
  }
  for (const tg of m.triggers) {
    const rel = relName(tg.tableId);
    if (!rel?.selected || !keptIds.has(tg.tableId)) continue;
    const n = tq(rel.obj);
    if (
      leftOut(
        tg.tableId,
        'trigger',
        `${quoteIdent(tg.name)} ON ${n}`,
        tg.def.replace(/ EXECUTE (FUNCTION|PROCEDURE) [\s\S]*$/, ''),
      )
    )
      continue;
    const what = `trigger ${tg.name} on ${n}`;
    let sql = rw(tg.def, what, colMaps.get(tg.tableId)) + ';';
    const en = (
      { D: 'DISABLE TRIGGER', R: 'ENABLE REPLICA TRIGGER', A: 'ENABLE ALWAYS TRIGGER' } as Record<string, string>
    )[tg.enabled];
    if (en) sql += `\nALTER TABLE ${n} ${en} ${quoteIdent(tg.name)};`;
    sql += comment(`TRIGGER ${quoteIdent(tg.name)} ON ${n}`, tg.comment);
    late.push({
      key: `trigger ${tableKey(rel.obj.schema, rel.obj.name)}.${quoteIdent(tg.name)}`,
      kind: 'trigger',
      name: `${quoteIdent(tg.name)} ON ${n}`,
      section: 'late',
      sql,
      drop: `DROP TRIGGER IF EXISTS ${quoteIdent(tg.name)} ON ${n};`,
    });
  }
  const order = new Map(ordered.map((p, i) => [p.id, i]));
  for (const v of mviewOrder.filter((x) => keptIds.has(x.id)).sort((a, b) => order.get(a.id)! - order.get(b.id)!)) {
    const n = q(v.schema, v.name);
    if (v.populated)
      late.push({
        key: `refresh ${qualify(v.schema, v.name)}`,
        kind: 'refresh materialized view',
        name: n,
        section: 'late',
        sql: `REFRESH MATERIALIZED VIEW ${n};`,
      });
    late.push(...(mviewIdx.get(v.id) ?? []));
  }

  // ---- late, after everything else: publications, default privileges, event triggers (they would fire on our own DDL) ----
  for (const p of m.publications) {
    const n = quoteIdent(p.name);
    if (!globals) {
      notMigrated.push({ kind: 'publication', name: n, reason: globalReason });
      continue;
    }
    const w = [`publish = ${quoteLiteral(p.publish.join(', '))}`];
    if (p.viaRoot) w.push('publish_via_partition_root = true');
    let sql = `CREATE PUBLICATION ${n}${p.allTables ? ' FOR ALL TABLES' : ''} WITH (${w.join(', ')});`;
    for (const t of p.tables) {
      const tt = selTables.get(t.id);
      const tname = `${qualify(t.schema, t.name)} in publication ${n}`;
      if (!tt || !keptIds.has(t.id)) {
        notMigrated.push({ kind: 'publication table', name: tname, reason: 'the table is not selected' });
        continue;
      }
      const what = `publication ${n}`;
      if (leftOut(t.id, 'publication table', tname, t.where, ...(t.columns ?? []).map(quoteIdent))) continue;
      const cols = t.columns
        ? ` (${t.columns.map((c) => quoteIdent(sel.targetColumn(tt.schema, tt.name, c))).join(', ')})`
        : '';
      sql += `\nALTER PUBLICATION ${n} ADD TABLE ONLY ${tq(tt)}${cols}${t.where != null ? ` WHERE (${rw(t.where, what, colMaps.get(t.id))})` : ''};`;
    }
    for (const s of p.schemas) {
      if (!sel.schemaSelected(s)) {
        notMigrated.push({
          kind: 'publication schema',
          name: `${quoteIdent(s)} in publication ${n}`,
          reason: 'the schema is not selected',
        });
        continue;
      }
      sql += `\nALTER PUBLICATION ${n} ADD TABLES IN SCHEMA ${quoteIdent(sel.targetSchema(s))};`;
    }
    sql += owner('PUBLICATION', n, p.owner) + comment(`PUBLICATION ${n}`, p.comment);
    late.push({
      key: `publication ${n}`,
      kind: 'publication',
      name: n,
      section: 'late',
      sql,
      drop: `DROP PUBLICATION IF EXISTS ${n};`,
    });
  }

  const OBJ_TYPES: Record<string, string> = { r: 'TABLES', S: 'SEQUENCES', f: 'FUNCTIONS', T: 'TYPES', n: 'SCHEMAS' };
  for (const d of task.noAcl ? [] : m.defaultAcls) {
    const objs = OBJ_TYPES[d.objType] ?? d.objType;
    const where = d.schema == null ? '' : ` IN SCHEMA ${quoteIdent(sel.targetSchema(d.schema))}`;
    const name = `for role ${quoteIdent(d.role)}${where} on ${objs}`;
    if (d.schema == null ? !globals : !sel.schemaSelected(d.schema)) {
      if (d.schema == null) notMigrated.push({ kind: 'default privileges', name, reason: globalReason });
      continue;
    }
    // noOwner: for the role that runs the migration; ownerTo: for the role that owns the migrated objects.
    const role = task.noOwner ? null : (task.ownerTo ?? d.role);
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
    if (!lines.length) continue;
    late.push({
      key: `default privileges ${quoteIdent(d.role)} ${d.schema == null ? '-' : quoteIdent(d.schema)} ${d.objType}`,
      kind: 'default privileges',
      name,
      section: 'late',
      sql: lines.join('\n'),
    });
  }

  for (const e of m.eventTriggers) {
    const n = quoteIdent(e.name);
    if (!globals) {
      notMigrated.push({ kind: 'event trigger', name: n, reason: globalReason });
      continue;
    }
    if (!keptIds.has(e.funcId)) {
      notMigrated.push({ kind: 'event trigger', name: n, reason: `its function ${e.func} is not migrated` });
      continue;
    }
    let sql = `CREATE EVENT TRIGGER ${n} ON ${quoteIdent(e.event)}${e.tags?.length ? `\n    WHEN TAG IN (${e.tags.map(quoteLiteral).join(', ')})` : ''}\n    EXECUTE FUNCTION ${rw(e.func, `event trigger ${n}`)}();`;
    const en = ({ D: 'DISABLE', R: 'ENABLE REPLICA', A: 'ENABLE ALWAYS' } as Record<string, string>)[e.enabled];
    if (en) sql += `\nALTER EVENT TRIGGER ${n} ${en};`;
    sql += owner('EVENT TRIGGER', n, e.owner) + comment(`EVENT TRIGGER ${n}`, e.comment);
    late.push({
      key: `event trigger ${n}`,
      kind: 'event trigger',
      name: n,
      section: 'late',
      sql,
      drop: `DROP EVENT TRIGGER IF EXISTS ${n};`,
    });
  }

  // Views valid only through a key built after the data: their real definition replaces the placeholder first thing in late.
  // Other objects needing such a key are created there too, with what depends on them.
  const toLate = new Set([...views.late, ...lateClosure(ordered, deps, views.placeholders)]);
  const lateViews = ordered.filter((p) => toLate.has(p.id)).map((p): Statement => ({ ...p.stmt, section: 'late' }));
  const statements: Statement[] = [
    ...ordered.filter((p) => !toLate.has(p.id)).map((p) => p.stmt),
    ...idxParted.map((x) => x.stmt),
    ...early,
    ...lateViews,
    ...late,
  ];
  const tablesNotCreated = [
    ...[...selTables.values()].filter((t) => !keptIds.has(t.id)).map((t) => tableKey(t.schema, t.name)),
    ...(m.unreadable ?? [])
      .filter((u) => u.kind === 'table' && u.schema !== null && sel.schemaSelected(u.schema))
      .map((u) => u.name),
  ];
  return {
    statements,
    warnings: [...new Set(warnings)],
    notMigrated,
    tablesNotCreated,
    objects: objects.filter((o) => !dropped.has(o.id)).map(({ kind, source, target }) => ({ kind, source, target })),
  };
}

/** "fillfactor=70" → fillfactor='70' */
function relOption(o: string): string {
  const i = o.indexOf('=');
  if (i < 0) return o;
  return `${o.slice(0, i)}=${quoteLiteral(o.slice(i + 1))}`;
}

/** Does SQL text refer to one of these column names (as an identifier, outside literals)? */
function usesColumn(texts: (string | null)[], cols: string[]): boolean {
  if (!cols.length) return false;
  const probe = new Map(cols.map((c) => [c, '\u0001probe']));
  const none = { schemas: new Map<string, string>(), tables: new Map<string, string>() };
  return texts.some((t) => t != null && rewriteNames(t, none, probe).sql.includes('\u0001probe'));
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The dollar-quoted body of a function definition, if any. */
function bodyOf(def: string): string {
  const m = /\$([A-Za-z_]*)\$[\s\S]*\$\1\$/.exec(def);
  return m ? m[0] : '';
}

function aggregateSql(f: FunctionObj, name: string, rw: (s: string) => string): string {
  const a = f.aggregate!;
  const p: string[] = [`SFUNC = ${rw(a.sfunc)}`, `STYPE = ${rw(a.stype)}`];
  if (a.sspace) p.push(`SSPACE = ${a.sspace}`);
  if (a.finalfunc) {
    p.push(`FINALFUNC = ${rw(a.finalfunc)}`);
    if (a.finalExtra) p.push('FINALFUNC_EXTRA');
    if (a.finalModify && a.finalModify !== (a.kind === 'n' ? 'r' : 'w'))
      p.push(
        `FINALFUNC_MODIFY = ${({ r: 'READ_ONLY', s: 'SHAREABLE', w: 'READ_WRITE' } as Record<string, string>)[a.finalModify]}`,
      );
  }
  if (a.combinefunc) p.push(`COMBINEFUNC = ${rw(a.combinefunc)}`);
  if (a.serialfunc) p.push(`SERIALFUNC = ${rw(a.serialfunc)}`);
  if (a.deserialfunc) p.push(`DESERIALFUNC = ${rw(a.deserialfunc)}`);
  if (a.initcond != null) p.push(`INITCOND = ${quoteLiteral(a.initcond)}`);
  if (a.msfunc) p.push(`MSFUNC = ${rw(a.msfunc)}`);
  if (a.minvfunc) p.push(`MINVFUNC = ${rw(a.minvfunc)}`);
  if (a.mstype) p.push(`MSTYPE = ${rw(a.mstype)}`);
  if (a.mfinalfunc) p.push(`MFINALFUNC = ${rw(a.mfinalfunc)}`);
  if (a.minitcond != null) p.push(`MINITCOND = ${quoteLiteral(a.minitcond)}`);
  if (a.sortop) p.push(`SORTOP = OPERATOR(${rw(a.sortop.replace(/\(.*$/, ''))})`);
  if (a.parallel && a.parallel !== 'u')
    p.push(`PARALLEL = ${({ s: 'SAFE', r: 'RESTRICTED' } as Record<string, string>)[a.parallel]}`);
  if (a.kind === 'h') p.push('HYPOTHETICAL');
  return `CREATE AGGREGATE ${name}(${rw(f.args)}) (\n    ${p.join(',\n    ')}\n);`;
}

export type { TypeObj, IndexObj };

/**
 * What every DDL family generator shares: the selected model, the selection's names on the target
 * (schema and table renames, column maps), owners, grants and comments, and the sinks the families
 * write to (pre-data nodes ordered later by pg_depend, early and late statements, warnings, objects
 * not migrated, the objects list of `plan`).
 */
import { StatementCompactor } from './compact.js';
import type { Acl, CatalogModel, NotMigrated, SequenceObj, TableObj, ViewObj } from '../catalog/model.js';
import type { Selection } from '../../../core/selection.js';
import type { TaskConfig } from '../../../core/config.js';
import { qualify, quoteIdent, quoteLiteral } from '../../../core/ident.js';
import type { Statement } from '../../../core/statement.js';
import { rewriteNames, type NameMap } from './rewrite.js';
import { nameMap, columnMaps } from './names.js';
import { usesColumn } from './util.js';

/** A pre-data statement and the catalog object it creates (ordered by pg_depend, then rank). */
export interface PreNode {
  id: string;
  rank: number;
  stmt: Statement;
}

/** Creation order among objects pg_depend does not order. */
export const RANK: Record<string, number> = {
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

export const GLOBAL_REASON = 'global object (not in a schema); migrated only when no includeSchemas filter is set';

export type PlanObject = { kind: string; source: string; target: string; id: string };

export class DdlContext {
  readonly task: TaskConfig;
  readonly warnings: string[];
  readonly notMigrated: NotMigrated[];
  readonly objects: PlanObject[] = [];
  readonly pre: PreNode[] = [];
  readonly early: Statement[] = [];
  /** Makes statements compact as they are made (see ./compact.ts). */
  readonly compact = new StatementCompactor();
  readonly late: Statement[] = [];
  readonly tablesById: Map<string, TableObj>;
  readonly selTables: Map<string, TableObj>;
  readonly viewsById: Map<string, ViewObj>;
  readonly map: NameMap;
  readonly colMaps: Map<string, Map<string, string>>;
  /** Identity sequences by "table id \0 column". */
  readonly identitySeq = new Map<string, SequenceObj>();
  /** Global objects (not in a schema) go along when the whole database is migrated, i.e. without includeSchemas. */
  readonly globals: boolean;
  /** Objects pgferry reads but does not create (their dependents are reported too). */
  readonly unmigrated: Map<string, string>;
  /** Display names of objects outside the main families, for "depends on …" reasons. */
  readonly names: Map<string, string>;

  constructor(
    readonly m: CatalogModel,
    readonly sel: Selection,
    warnings: string[],
  ) {
    this.task = sel.task;
    this.warnings = warnings;
    this.notMigrated = [...m.notMigrated];
    this.tablesById = new Map(m.tables.map((t) => [t.id, t]));
    this.selTables = new Map(m.tables.filter((t) => this.tableSel(t)).map((t) => [t.id, t]));
    this.viewsById = new Map(m.views.map((v) => [v.id, v]));
    this.map = nameMap(m, sel);
    this.colMaps = columnMaps(m, sel);
    for (const s of m.sequences)
      if (s.identityOf) this.identitySeq.set(`${s.identityOf.tableId}\u0000${s.identityOf.column}`, s);
    this.globals = this.task.includeSchemas.length === 0;
    this.unmigrated = new Map(m.skipped.map((x) => [x.id, 'reported by the catalog reader']));
    this.names = new Map(m.skipped.map((x) => [x.id, x.name]));
  }

  private rootOf(t: TableObj): TableObj {
    let cur = t;
    for (let i = 0; i < 64 && cur.isPartition && cur.parents[0]; i++) {
      const p = this.tablesById.get(cur.parents[0].id);
      if (!p) break;
      cur = p;
    }
    return cur;
  }

  private tableSel(t: TableObj): boolean {
    const { sel } = this;
    return (
      sel.tableSelected(t.schema, t.name) ||
      (t.isPartition &&
        sel.schemaSelected(t.schema) &&
        !sel.leftOutTable(t.schema, t.name) &&
        sel.tableSelected(this.rootOf(t).schema, this.rootOf(t).name))
    );
  }

  /** Columns of a table left out by its column subset. */
  readonly omitted = (id: string): string[] => {
    const t = this.tablesById.get(id);
    const subset = t && this.sel.columnSubset(t.schema, t.name);
    return t && subset ? t.columns.filter((c) => !subset.includes(c.name)).map((c) => c.name) : [];
  };

  /** Reports (and says so) an object whose text uses a column left out by the column subset. */
  readonly leftOut = (tableId: string, kind: string, name: string, ...texts: (string | null)[]): boolean => {
    const cols = this.omitted(tableId);
    if (!cols.length || !usesColumn(texts, cols)) return false;
    this.notMigrated.push({ kind, name, reason: 'uses a column left out by the column subset' });
    return true;
  };

  /** A table's quoted name on the target. */
  readonly tq = (t: { schema: string; name: string }): string => {
    const tt = this.sel.targetTable(t.schema, t.name);
    return qualify(tt.schema, tt.name);
  };

  /** An object's quoted name on the target (its schema mapped). */
  readonly q = (schema: string, name: string): string => qualify(this.sel.targetSchema(schema), name);

  /** Server-deparsed SQL with the target's names; warns when a rename cannot be applied safely. */
  readonly rw = (sql: string, what: string, cols?: Map<string, string>): string => {
    const r = rewriteNames(sql, this.map, cols);
    if (r.unsafe)
      this.warnings.push(
        `${what}: its text mentions a renamed schema/table/column inside a string or function body, which pgferry does not rewrite; check it on the target`,
      );
    return r.sql;
  };

  readonly collate = (c: string[] | null): string => (c ? ` COLLATE ${this.q(c[0], c[1])}` : '');

  readonly owner = (kw: string, name: string, role: string): string =>
    this.task.noOwner ? '' : `\nALTER ${kw} ${name} OWNER TO ${quoteIdent(this.task.ownerTo ?? role)};`;

  /**
   * OWNER TO for an object only a superuser may own (foreign-data wrappers, event triggers): PostgreSQL
   * refuses to give it to a role that is none, even when a superuser asks, so --owner-to is not applied to
   * it; it stays with the account that creates it (a superuser: only one may create it), and a warning
   * says so. (A publication FOR ALL TABLES is held to that only when a non-superuser changes its owner.)
   */
  readonly superuserOwner = (kw: string, name: string, role: string, what: string): string => {
    const to = this.task.ownerTo;
    if (this.task.noOwner || to === undefined) return this.owner(kw, name, role);
    this.warnings.push(
      `${what}: kept owned by the target account that creates it, not --owner-to ${quoteIdent(to)}: ` +
        `PostgreSQL allows only a superuser to own it; if ${quoteIdent(to)} is one, run ALTER ${kw} ${name} OWNER TO ${quoteIdent(to)} on the target`,
    );
    return '';
  };

  readonly grants = (kw: string, name: string, acl: Acl[] | null, role: string, cols = ''): string => {
    const { task } = this;
    if (task.noAcl || acl === null) return '';
    let s = cols ? '' : `\nREVOKE ALL ON ${kw} ${name} FROM PUBLIC;`;
    if (!cols && task.noOwner === false && task.ownerTo === undefined && !acl.some((a) => a.grantee === role))
      s += `\nREVOKE ALL ON ${kw} ${name} FROM ${quoteIdent(role)};`;
    for (const a of acl) {
      if (a.grantee === role && !cols) continue;
      if (a.grantee === this.m.sourceUser && a.grantee !== role) {
        this.leftOutGrant(kw, name + cols, a);
        continue;
      }
      s += `\nGRANT ${a.privilege}${cols} ON ${kw} ${name} TO ${a.grantee === '' ? 'PUBLIC' : quoteIdent(a.grantee)}${a.grantable ? ' WITH GRANT OPTION' : ''};`;
    }
    return s;
  };

  /** Grants to the account pgferry reads the source as exist for the migration only: reported, not carried. */
  private leftOutGrant(kw: string, name: string, a: Acl): void {
    this.notMigrated.push({
      kind: 'grant',
      name: `${a.privilege} on ${kw.toLowerCase()} ${name} to ${quoteIdent(a.grantee)}`,
      reason: 'held by the source migration account; it exists only for the migration and is not carried to the target',
    });
  }

  readonly comment = (what: string, c: string | null): string =>
    c == null ? '' : `\nCOMMENT ON ${what} IS ${quoteLiteral(c)};`;

  /** A pre-data statement creating catalog object `id`, listed in `plan`'s objects. */
  readonly add = (id: string, kind: string, key: string, name: string, sql: string, drop?: string): void => {
    this.pre.push({
      id,
      rank: RANK[kind] ?? 20,
      stmt: this.compact.statement({ key, kind, name, section: 'pre', sql, ...(drop ? { drop } : {}) }),
    });
    this.objects.push({
      id,
      kind: this.compact.once(kind),
      source: this.compact.once(key.slice(kind.length + 1)),
      target: this.compact.once(name),
    });
  };

  /** An object not created, for `reason`; what depends on it is reported too. */
  readonly skip = (id: string, kind: string, name: string, reason: string): void => {
    this.notMigrated.push({ kind, name, reason });
    this.unmigrated.set(id, reason);
  };

  /** The table, view or foreign table a rule, policy or trigger belongs to, and whether it is selected. */
  readonly relName = (id: string): { obj: { schema: string; name: string }; selected: boolean } | undefined => {
    const t = this.tablesById.get(id);
    if (t) return { obj: t, selected: this.selTables.has(id) };
    const v = this.viewsById.get(id);
    if (v) return { obj: v, selected: this.sel.schemaSelected(v.schema) };
    const f = this.m.foreignTables.find((x) => x.id === id);
    if (f) return { obj: f, selected: this.sel.tableSelected(f.schema, f.name) };
    return undefined;
  };
}

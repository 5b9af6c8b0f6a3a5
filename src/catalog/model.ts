/**
 * The frozen catalog model: what the DDL generator needs to know about a source database.
 * Built from raw catalog rows (see ./sql/*) by ./introspect.ts. Definitions deparsed by the
 * server (pg_get_indexdef, pg_get_constraintdef, …) are kept as text, taken with
 * search_path = '' so that every name in them is schema-qualified.
 */
export interface Acl {
  grantee: string; // '' = PUBLIC
  privilege: string;
  grantable: boolean;
}

export interface ObjBase {
  /** Graph node id, e.g. "rel:16384". */
  id: string;
  oid: string;
  schema: string;
  name: string;
  owner: string;
  comment: string | null;
  /** null = default privileges (no GRANT/REVOKE to emit). */
  acl: Acl[] | null;
}

export interface SchemaObj { id: string; oid: string; name: string; owner: string; comment: string | null; acl: Acl[] | null }

export interface ExtensionObj { id: string; oid: string; name: string; schema: string; version: string; comment: string | null }

export interface CompositeAttr { name: string; type: string; collation: string[] | null }
export interface DomainCheck { name: string; def: string; validated: boolean; comment: string | null }

export interface TypeObj extends ObjBase {
  kind: 'enum' | 'composite' | 'range' | 'domain';
  labels?: string[];
  attrs?: CompositeAttr[];
  range?: { subtype: string; opclass: string | null; collation: string[] | null; canonical: string | null; subdiff: string | null; multirange: string | null; defaultMultirange: boolean };
  domain?: { base: string; notNull: boolean; default: string | null; collation: string[] | null; checks: DomainCheck[] };
  /** pg_type row of a composite type's pg_class entry. */
  relid?: string;
}

export interface SequenceObj extends ObjBase {
  type: string;
  start: string;
  increment: string;
  min: string;
  max: string;
  cache: string;
  cycle: boolean;
  unlogged: boolean;
  /** serial-like: OWNED BY table.column (deptype 'a'). */
  ownedBy: { tableId: string; column: string } | null;
  /** identity sequence of table.column (deptype 'i'): part of the table, not a separate object. */
  identityOf: { tableId: string; column: string } | null;
}

export interface ColumnObj {
  num: number;
  name: string;
  type: string;
  notNull: boolean;
  default: string | null;
  /** The default calls a user-defined function: emitted separately after both exist. */
  defaultHasFuncDeps: boolean;
  identity: '' | 'a' | 'd';
  generated: '' | 's';
  collation: string[] | null;
  isLocal: boolean;
  inhCount: number;
  comment: string | null;
  acl: Acl[] | null;
  storage: string | null;
  statTarget: number | null;
}

export interface CheckObj { name: string; def: string; validated: boolean; isLocal: boolean; noInherit: boolean; comment: string | null }

export interface TableObj extends ObjBase {
  relkind: 'r' | 'p';
  unlogged: boolean;
  options: string[] | null;
  partKey: string | null;
  partBound: string | null;
  isPartition: boolean;
  parents: { id: string; schema: string; name: string }[];
  columns: ColumnObj[];
  checks: CheckObj[];
  rls: boolean;
  forceRls: boolean;
  accessMethod: string | null;
}

export interface IndexObj {
  id: string;
  oid: string;
  schema: string;
  name: string;
  tableId: string;
  def: string;
  /** Constraint this index backs (p/u/x), if any. */
  constraint: { name: string; type: 'p' | 'u' | 'x'; def: string; deferrable: boolean; comment: string | null } | null;
  parentIndex: { schema: string; name: string } | null;
  /** Table attnums used (0 for expressions). */
  columns: number[];
  clustered: boolean;
  comment: string | null;
  isValid: boolean;
}

export interface ForeignKeyObj {
  id: string;
  name: string;
  tableId: string;
  refTableId: string;
  def: string;
  validated: boolean;
  columns: number[];
  comment: string | null;
}

export interface ViewObj extends ObjBase {
  relkind: 'v' | 'm';
  def: string;
  options: string[] | null;
  populated: boolean;
  columnComments: { name: string; comment: string }[];
}

export interface FunctionObj extends ObjBase {
  kind: 'f' | 'p' | 'a' | 'w';
  language: string;
  identityArgs: string;
  args: string;
  def: string | null;
  aggregate: AggregateInfo | null;
}

export interface AggregateInfo {
  kind: string;
  sfunc: string;
  stype: string;
  sspace: number;
  finalfunc: string | null;
  finalExtra: boolean;
  finalModify: string | null;
  combinefunc: string | null;
  serialfunc: string | null;
  deserialfunc: string | null;
  initcond: string | null;
  msfunc: string | null;
  minvfunc: string | null;
  mstype: string | null;
  mfinalfunc: string | null;
  minitcond: string | null;
  sortop: string | null;
  parallel: string;
}

export interface TriggerObj { id: string; name: string; tableId: string; def: string; enabled: string; comment: string | null }
export interface RuleObj { id: string; name: string; tableId: string; def: string; comment: string | null }
export interface PolicyObj {
  id: string;
  name: string;
  tableId: string;
  cmd: string;
  permissive: boolean;
  roles: string[];
  qual: string | null;
  withCheck: string | null;
  comment: string | null;
}

export interface NotMigrated { kind: string; name: string; reason: string }

export interface Dependency { from: string; to: string }

export interface CatalogModel {
  serverVersionNum: number;
  schemas: SchemaObj[];
  extensions: ExtensionObj[];
  types: TypeObj[];
  sequences: SequenceObj[];
  tables: TableObj[];
  indexes: IndexObj[];
  foreignKeys: ForeignKeyObj[];
  views: ViewObj[];
  functions: FunctionObj[];
  triggers: TriggerObj[];
  rules: RuleObj[];
  policies: PolicyObj[];
  /** Canonical edges between graph nodes (from depends on to). */
  dependencies: Dependency[];
  notMigrated: NotMigrated[];
}

export function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as Record<string, unknown>)) deepFreeze(v);
  }
  return o;
}

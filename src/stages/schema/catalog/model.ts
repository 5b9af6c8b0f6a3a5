/**
 * The frozen catalog model: what the DDL generator needs to know about a source database.
 * Built from raw catalog rows (see ./sql/*) by ./introspect.ts. Definitions deparsed by the
 * server (pg_get_indexdef, pg_get_constraintdef, …) are kept as text, taken with
 * search_path = '' so that every name in them is schema-qualified.
 */
import type { CatalogFacts } from './facts-model.js';
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

export interface SchemaObj {
  id: string;
  oid: string;
  name: string;
  owner: string;
  comment: string | null;
  acl: Acl[] | null;
}

export interface ExtensionObj {
  id: string;
  oid: string;
  name: string;
  schema: string;
  version: string;
  comment: string | null;
}

export interface CompositeAttr {
  name: string;
  type: string;
  collation: string[] | null;
}
export interface DomainCheck {
  name: string;
  def: string;
  validated: boolean;
  comment: string | null;
}

/** A support function of a base type: regproc text and graph node id. */
export interface TypeFunc {
  name: string | null;
  id: string | null;
}

/** CREATE TYPE t (INPUT = …): made in steps (shell type, I/O functions, full type). */
export interface BaseTypeInfo {
  funcs: {
    input: TypeFunc;
    output: TypeFunc;
    receive: TypeFunc;
    send: TypeFunc;
    typmodIn: TypeFunc;
    typmodOut: TypeFunc;
    analyze: TypeFunc;
    subscript: TypeFunc;
  };
  length: number;
  byValue: boolean;
  align: string;
  storage: string;
  category: string;
  preferred: boolean;
  default: string | null;
  element: string | null;
  delimiter: string;
  collatable: boolean;
}

export interface TypeObj extends ObjBase {
  kind: 'enum' | 'composite' | 'range' | 'domain' | 'base';
  base?: BaseTypeInfo;
  labels?: string[];
  attrs?: CompositeAttr[];
  range?: {
    subtype: string;
    opclass: string | null;
    collation: string[] | null;
    canonical: string | null;
    subdiff: string | null;
    multirange: string | null;
    defaultMultirange: boolean;
  };
  domain?: {
    base: string;
    notNull: boolean;
    default: string | null;
    collation: string[] | null;
    checks: DomainCheck[];
  };
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

export interface CheckObj {
  name: string;
  def: string;
  validated: boolean;
  isLocal: boolean;
  noInherit: boolean;
  comment: string | null;
}

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

export interface ViewColumn {
  name: string;
  type: string;
  collation: string[] | null;
}

export interface ViewObj extends ObjBase {
  relkind: 'v' | 'm';
  def: string;
  /** Output columns, for a placeholder view (SELECT NULL::type AS name, …) created before the real one. */
  columns: ViewColumn[];
  /** Its query reads the view itself (CREATE OR REPLACE VIEW made it refer to itself). */
  selfRef: boolean;
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

export interface TriggerObj {
  id: string;
  name: string;
  tableId: string;
  def: string;
  enabled: string;
  comment: string | null;
}
export interface RuleObj {
  id: string;
  name: string;
  tableId: string;
  def: string;
  comment: string | null;
}
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

export interface NotMigrated {
  kind: string;
  name: string;
  reason: string;
}

/** Collation (pg_collation). provider: c = libc, i = icu, b = builtin (17+). */
export interface CollationObj extends ObjBase {
  provider: string;
  lcCollate: string | null;
  lcCtype: string | null;
  /** ICU/builtin locale (colliculocale 15–16, colllocale 17+; collcollate for ICU before 15). */
  locale: string | null;
  rules: string | null;
  deterministic: boolean;
}

/** Extended statistics object (CREATE STATISTICS). */
export interface StatisticsObj extends ObjBase {
  tableId: string;
  def: string;
  statTarget: number | null;
}

/** [schema, name, left type | null, right type | null] of an operator. */
export type OpRef = [string, string, string | null, string | null];

export interface OperatorObj extends ObjBase {
  left: string | null;
  right: string | null;
  proc: string;
  commutator: OpRef | null;
  negator: OpRef | null;
  restrict: string | null;
  join: string | null;
  hashes: boolean;
  merges: boolean;
}

export interface OpFamilyMember {
  strategy: number;
  op: OpRef;
  purpose: string;
  sortFamily: [string, string] | null;
}
export interface OpFamilyProc {
  num: number;
  left: string;
  right: string;
  proc: string;
}

export interface OpFamilyObj extends ObjBase {
  am: string;
  ops: OpFamilyMember[];
  procs: OpFamilyProc[];
}

export interface OpClassObj extends ObjBase {
  am: string;
  isDefault: boolean;
  type: string;
  storage: string | null;
  family: [string, string];
  ops: OpFamilyMember[];
  procs: OpFamilyProc[];
}

export interface CastObj {
  id: string;
  oid: string;
  source: string;
  target: string;
  /** f = function, i = inout, b = binary coercible */
  method: string;
  /** e = explicit, a = assignment, i = implicit */
  context: string;
  func: string | null;
  funcId: string | null;
  /** Non-system schemas of the source type, target type and function. */
  schemas: string[];
  comment: string | null;
}

export interface TsDictObj extends ObjBase {
  template: [string, string];
  templateMigratable: boolean;
  options: string | null;
}
export interface TsConfigObj extends ObjBase {
  parser: [string, string];
  parserMigratable: boolean;
  maps: { token: string; dicts: [string, string][] }[];
}

export type Options = [string, string][];

export interface FdwObj {
  id: string;
  oid: string;
  name: string;
  owner: string;
  comment: string | null;
  acl: Acl[] | null;
  handler: string | null;
  validator: string | null;
  options: Options | null;
}
export interface ServerObj {
  id: string;
  oid: string;
  name: string;
  owner: string;
  comment: string | null;
  acl: Acl[] | null;
  fdw: string;
  type: string | null;
  version: string | null;
  options: Options | null;
}
export interface UserMappingObj {
  id: string;
  oid: string;
  server: string;
  serverId: string;
  user: string;
  options: Options | null;
  /** The options may exist but are not visible to the introspecting role (pg_user_mappings hides them). */
  hidden: boolean;
}

export interface ForeignColumn {
  name: string;
  type: string;
  notNull: boolean;
  default: string | null;
  collation: string[] | null;
  options: Options | null;
  comment: string | null;
}
export interface ForeignTableObj extends ObjBase {
  server: string;
  serverId: string;
  options: Options | null;
  columns: ForeignColumn[];
  /** Partition / inheritance child / CHECK constraints: not migrated (reported). */
  unsupported: string | null;
}

export interface EventTriggerObj {
  id: string;
  oid: string;
  name: string;
  owner: string;
  comment: string | null;
  event: string;
  func: string;
  funcId: string;
  enabled: string;
  tags: string[] | null;
}

export interface PublicationObj {
  id: string;
  oid: string;
  name: string;
  owner: string;
  comment: string | null;
  allTables: boolean;
  publish: string[];
  viaRoot: boolean | null;
  tables: { id: string; schema: string; name: string; columns: string[] | null; where: string | null }[];
  schemas: string[];
}

/** ALTER DEFAULT PRIVILEGES: acl is the stored list, base the built-in default it replaces (global entries only; [] in a schema). */
export interface DefaultAclObj {
  id: string;
  oid: string;
  role: string;
  schema: string | null;
  objType: string;
  acl: Acl[];
  base: Acl[];
}

export interface ConversionObj extends ObjBase {
  forEncoding: string;
  toEncoding: string;
  proc: string;
  isDefault: boolean;
}

export interface Dependency {
  from: string;
  to: string;
}

export interface CatalogModel {
  serverVersionNum: number;
  /** The role pgferry reads the source as: grants it holds exist only for the migration. */
  sourceUser?: string;
  /** The source's bootstrap superuser (owner of schema public before PostgreSQL 15). */
  bootstrapUser?: string;
  /**
   * Schemas, relations and sequences as the precheck and the copy list see them (./facts-model.ts).
   * Always read by introspect (see SourceCatalog); the DDL generator does not use them.
   */
  facts?: CatalogFacts;
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
  collations: CollationObj[];
  statistics: StatisticsObj[];
  operators: OperatorObj[];
  opFamilies: OpFamilyObj[];
  opClasses: OpClassObj[];
  casts: CastObj[];
  tsDicts: TsDictObj[];
  tsConfigs: TsConfigObj[];
  fdws: FdwObj[];
  servers: ServerObj[];
  userMappings: UserMappingObj[];
  foreignTables: ForeignTableObj[];
  eventTriggers: EventTriggerObj[];
  publications: PublicationObj[];
  defaultAcls: DefaultAclObj[];
  conversions: ConversionObj[];
  /** Objects read but not created (each also in notMigrated): what depends on them is reported too. */
  skipped: { id: string; name: string }[];
  /** Canonical edges between graph nodes (from depends on to). */
  dependencies: Dependency[];
  notMigrated: NotMigrated[];
  /** Objects a catalog function failed on (also first in notMigrated), with the server's message. */
  unreadable: (NotMigrated & { schema: string | null })[];
}

export function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as Record<string, unknown>)) deepFreeze(v);
  }
  return o;
}

/** The catalog as introspect reads it: the model with its facts. */
export type SourceCatalog = CatalogModel & { facts: CatalogFacts };

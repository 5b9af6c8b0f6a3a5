/**
 * Read a source database's catalog (PostgreSQL 12–17) into the frozen CatalogModel.
 * Raw rows (shaped by the queries in ./sql) are mapped to model types here; nothing else in
 * pgferry reads the source catalog for DDL. The model's `facts` (./facts.ts) are what the
 * precheck and the copy list derive from: one read serves them all.
 */
import type pg from 'pg';
import type {
  CastObj,
  CollationObj,
  ConversionObj,
  DefaultAclObj,
  EventTriggerObj,
  FdwObj,
  ForeignTableObj,
  OpClassObj,
  OperatorObj,
  OpFamilyObj,
  PublicationObj,
  ServerObj,
  StatisticsObj,
  TsConfigObj,
  TsDictObj,
  UserMappingObj,
} from './model.js';
import type {
  Acl,
  ColumnObj,
  Dependency,
  ExtensionObj,
  ForeignKeyObj,
  FunctionObj,
  IndexObj,
  NotMigrated,
  PolicyObj,
  RuleObj,
  SchemaObj,
  SequenceObj,
  TableObj,
  TriggerObj,
  TypeObj,
  ViewObj,
} from './model.js';
import { deepFreeze, type SourceCatalog } from './model.js';

export type { CatalogModel, SourceCatalog } from './model.js';
export { readFacts, type CatalogFacts } from './facts.js';
export type { FactColumn } from './facts-model.js';
import { safeReader } from './safe-read.js';
import { Interner } from '../../../core/intern.js';
import { readFacts } from './facts.js';
import type { CatalogFacts } from './facts-model.js';
import { BASE_TYPES_SQL } from './sql/basetypes.js';
import { baseTypeOf, shellEdges } from './basetypes.js';
import { SCHEMAS_SQL, EXTENSIONS_SQL } from './sql/schemas.js';
import { TYPES_SQL } from './sql/types.js';
import { SEQUENCES_SQL } from './sql/sequences.js';
import { TABLES_SQL, INDEXES_SQL, FOREIGN_KEYS_SQL } from './sql/tables.js';
import { VIEWS_SQL } from './sql/views.js';
import { FUNCTIONS_SQL } from './sql/functions.js';
import { TRIGGERS_SQL, RULES_SQL, POLICIES_SQL } from './sql/triggers.js';
import { DEPEND_SQL, CONSTRAINT_OWNERS_SQL, TYPE_ALIASES_SQL, EXTENSION_MEMBERS_SQL } from './sql/depend.js';
import { UNSUPPORTED_SQL } from './sql/others.js';
import {
  CASTS_SQL,
  COLLATIONS_SQL,
  CONVERSIONS_SQL,
  DEFAULT_ACLS_SQL,
  EVENT_TRIGGERS_SQL,
  FDWS_SQL,
  FOREIGN_TABLES_SQL,
  OPCLASSES_SQL,
  OPERATORS_SQL,
  OPFAMILIES_SQL,
  SERVERS_SQL,
  STATISTICS_SQL,
  TS_CONFIGS_SQL,
  TS_DICTS_SQL,
  USER_MAPPINGS_SQL,
  publicationsSql,
} from './sql/extras.js';

type Row = Record<string, any>;

async function rows(c: pg.Client, sql: string): Promise<Row[]> {
  return (await c.query(sql)).rows;
}

const acl = (v: unknown): Acl[] | null => (v == null ? null : (v as Acl[]));

/**
 * An ACL kept once however many objects have the same (a SELECT granted on every table of a schema
 * gives 20,000 tables one ACL of eight entries: 160,000 objects, 7 MB, when each table had its own).
 */
const aclIn =
  (t: Interner) =>
  (v: unknown): Acl[] | null => {
    if (v == null) return null;
    const items = v as Acl[];
    const key = `acl\u0000${items.map((a) => `${a.grantee}\u0000${a.privilege}\u0000${a.grantable}`).join('\u0000')}`;
    return t.keep(key, () =>
      Object.freeze(
        items.map((a) =>
          Object.freeze({ grantee: t.text(a.grantee), privilege: t.text(a.privilege), grantable: a.grantable }),
        ),
      ),
    ) as Acl[];
  };

/** A list that is most often empty (a table's parents, its CHECK constraints): the empty ones are one. */
const NONE: readonly never[] = Object.freeze([]);
const listOrNone = <T>(a: T[]): T[] => (a.length ? a : (NONE as unknown as T[]));

/** The key an index backs, built field by field as columns are (one shape for all). */
const constraintOf = (k: Row, t: Interner): IndexObj['constraint'] => ({
  name: k.name,
  type: t.text(k.type),
  def: t.text(k.def),
  deferrable: k.deferrable,
  comment: k.comment,
});

/**
 * A column of TABLES_SQL's JSON, built field by field: one object shape for all columns (copies
 * spread from the parsed JSON got a hidden class each, about 0.5 kB a column), its texts interned.
 */
function columnOf(c: Row, t: Interner, aclOf: (v: unknown) => Acl[] | null): ColumnObj {
  return {
    num: c.num,
    name: t.text(c.name),
    type: t.text(c.type),
    notNull: c.notNull,
    default: c.default,
    defaultHasFuncDeps: c.defaultHasFuncDeps,
    identity: c.identity,
    generated: c.generated,
    collation: t.list(c.collation),
    isLocal: c.isLocal,
    inhCount: c.inhCount,
    comment: c.comment,
    acl: aclOf(c.acl),
    storage: c.storage,
    statTarget: c.statTarget,
  };
}

/**
 * Introspect. Runs with search_path = '' for the duration (restored afterwards), so every name
 * in deparsed definitions is schema-qualified.
 */
export async function introspect(c: pg.Client): Promise<SourceCatalog> {
  const prev = (
    await c.query<{ p: string; jit: string }>(
      `SELECT pg_catalog.current_setting('search_path') AS p, pg_catalog.current_setting('jit') AS jit`,
    )
  ).rows[0];
  // Without JIT compilation: the catalog queries' plans cost enough to trigger it, and compiling them
  // took longer than it saved (at 20,000 tables 1.4 s for TABLES_SQL and 1 s for DEPEND_SQL).
  await c.query(`SELECT pg_catalog.set_config('jit', 'off', false)`);
  try {
    // The facts first, with the session's search_path: empty for every session connect() opens, so type
    // names outside pg_catalog print schema-qualified (they serve messages and verify's float check).
    const t = new Interner();
    const facts = await readFacts(c, t);
    await c.query(`SELECT pg_catalog.set_config('search_path', '', false)`);
    return await read(c, facts, t);
  } finally {
    await c.query(`SELECT pg_catalog.set_config('search_path', $1, false), pg_catalog.set_config('jit', $2, false)`, [
      prev.p,
      prev.jit,
    ]);
  }
}

async function read(c: pg.Client, facts: CatalogFacts, t: Interner): Promise<SourceCatalog> {
  const aclOf = aclIn(t);
  const version = Number(
    (await c.query<{ v: string }>(`SELECT pg_catalog.current_setting('server_version_num') AS v`)).rows[0].v,
  );
  const who = (await c.query<{ u: string; b: string }>(`SELECT current_user AS u, pg_catalog.pg_get_userbyid(10) AS b`))
    .rows[0];
  const notMigrated: NotMigrated[] = [];
  const safe = await safeReader(c);

  const schemas: SchemaObj[] = (await rows(c, SCHEMAS_SQL)).map((r) => ({
    id: `schema:${r.oid}`,
    oid: r.oid,
    name: r.name,
    owner: r.owner,
    comment: r.comment,
    acl: acl(r.acl),
  }));
  const extensions: ExtensionObj[] = (await rows(c, EXTENSIONS_SQL)).map((r) => ({
    id: `ext:${r.oid}`,
    oid: r.oid,
    name: r.name,
    schema: r.schema,
    version: r.version,
    comment: r.comment,
  }));

  const types: TypeObj[] = [];
  for (const r of await safe.rows(TYPES_SQL, 'pg_type', 'type')) {
    const kind = ({ e: 'enum', c: 'composite', r: 'range', d: 'domain' } as const)[r.typtype as 'e' | 'c' | 'r' | 'd'];
    const t: TypeObj = {
      id: `type:${r.oid}`,
      oid: r.oid,
      schema: r.schema,
      name: r.name,
      owner: r.owner,
      comment: r.comment,
      acl: acl(r.acl),
      kind,
    };
    if (kind === 'enum') t.labels = r.labels ?? [];
    if (kind === 'composite') {
      t.attrs = r.attrs ?? [];
      t.relid = r.relid;
    }
    if (kind === 'range') {
      const g = r.range;
      const def = r.name.includes('range') ? r.name.replace(/range/, 'multirange') : r.name + '_multirange';
      t.range = { ...g, defaultMultirange: g.multirange == null || g.multirange === def };
      if (g.canonical)
        notMigrated.push({
          kind: 'range type',
          name: `${r.schema}.${r.name}`,
          reason: 'range types with a canonical function need a shell type; not supported',
        });
    }
    if (kind === 'domain') t.domain = r.domain;
    types.push(t);
  }
  for (const r of await rows(c, BASE_TYPES_SQL)) types.push(baseTypeOf(r, acl(r.acl)));

  const sequences: SequenceObj[] = (await rows(c, SEQUENCES_SQL)).map((r) => ({
    id: `rel:${r.oid}`,
    oid: r.oid,
    schema: r.schema,
    name: r.name,
    owner: r.owner,
    comment: r.comment,
    acl: acl(r.acl),
    type: r.type,
    start: r.start,
    increment: r.increment,
    min: r.min,
    max: r.max,
    cache: r.cache,
    cycle: r.cycle,
    unlogged: r.unlogged,
    ownedBy: r.owned && r.owned.deptype === 'a' ? { tableId: `rel:${r.owned.table}`, column: r.owned.column } : null,
    identityOf: r.owned && r.owned.deptype === 'i' ? { tableId: `rel:${r.owned.table}`, column: r.owned.column } : null,
  }));

  const tables: TableObj[] = (await safe.rows(TABLES_SQL, 'pg_class', 'rel')).map((r) => ({
    id: t.text(`rel:${r.oid}`),
    oid: t.text(r.oid),
    schema: t.text(r.schema),
    name: t.text(r.name),
    owner: t.text(r.owner),
    comment: r.comment,
    acl: aclOf(r.acl),
    relkind: r.relkind,
    unlogged: r.unlogged,
    options: r.options,
    partKey: r.part_key,
    partBound: r.part_bound,
    isPartition: r.is_partition,
    parents: listOrNone(
      (r.parents as Row[]).map((p) => ({ id: `rel:${p.oid}`, schema: t.text(p.schema), name: t.text(p.name) })),
    ),
    columns: (r.columns as Row[]).map((col) => columnOf(col, t, aclOf)),
    checks: listOrNone(r.checks),
    rls: r.rls,
    forceRls: r.force_rls,
    accessMethod: r.access_method && r.access_method !== 'heap' ? r.access_method : null,
  }));
  for (const t of tables) {
    if (t.accessMethod)
      notMigrated.push({
        kind: 'table access method',
        name: `${t.schema}.${t.name}`,
        reason: `table uses access method ${t.accessMethod}; created with the target's default`,
      });
  }

  const indexes: IndexObj[] = (await safe.rows(INDEXES_SQL, 'pg_class', 'rel')).map((r) => ({
    id: t.text(`rel:${r.oid}`),
    oid: r.oid,
    schema: t.text(r.schema),
    name: r.name,
    tableId: t.text(`rel:${r.table_oid}`),
    def: r.def,
    constraint: r.constraint && constraintOf(r.constraint, t),
    parentIndex: r.parent_index && { schema: t.text(r.parent_index.schema), name: r.parent_index.name },
    // one frozen copy of each column list (most are [1] or [2]); exact length, not the driver's grown array
    columns: t.keep(`indkey\u0000${r.columns}`, () => Object.freeze((r.columns as number[]).slice())) as number[],
    clustered: r.clustered,
    comment: r.comment,
    isValid: r.valid,
  }));
  const foreignKeys: ForeignKeyObj[] = (await safe.rows(FOREIGN_KEYS_SQL, 'pg_constraint', 'con')).map((r) => ({
    id: `con:${r.oid}`,
    name: r.name,
    tableId: t.text(`rel:${r.table_oid}`),
    refTableId: t.text(`rel:${r.ref_oid}`),
    def: r.def,
    validated: r.validated,
    columns: r.columns ?? [],
    comment: r.comment,
  }));
  const views: ViewObj[] = (await safe.rows(VIEWS_SQL, 'pg_class', 'rel')).map((r) => ({
    id: `rel:${r.oid}`,
    oid: r.oid,
    schema: r.schema,
    name: r.name,
    owner: r.owner,
    comment: r.comment,
    acl: acl(r.acl),
    relkind: r.relkind,
    def: r.def,
    options: r.options,
    populated: r.populated,
    columnComments: r.column_comments,
    columns: r.columns,
    selfRef: r.self_ref,
  }));

  const functions: FunctionObj[] = [];
  const skipped: { id: string; name: string }[] = [];
  for (const r of await safe.rows(FUNCTIONS_SQL, 'pg_proc', 'func')) {
    const name = `${r.schema}.${r.name}(${r.identity_args})`;
    if (r.kind !== 'a' && r.language === 'c') {
      notMigrated.push({
        kind: r.kind === 'p' ? 'procedure' : 'function',
        name,
        reason: `language ${r.language}: needs a shared library on the target; install it there (e.g. as an extension)`,
      });
      skipped.push({ id: `func:${r.oid}`, name });
      continue;
    }
    functions.push({
      id: `func:${r.oid}`,
      oid: r.oid,
      schema: r.schema,
      name: r.name,
      owner: r.owner,
      comment: r.comment,
      acl: acl(r.acl),
      kind: r.kind,
      language: r.language,
      identityArgs: r.identity_args,
      args: r.args,
      def: r.def,
      aggregate: r.aggregate,
    });
  }

  const triggers: TriggerObj[] = (await safe.rows(TRIGGERS_SQL, 'pg_trigger', 'trigger')).map((r) => ({
    id: `trigger:${r.oid}`,
    name: r.name,
    tableId: `rel:${r.table_oid}`,
    def: r.def,
    enabled: r.enabled,
    comment: r.comment,
  }));
  const rules: RuleObj[] = (await safe.rows(RULES_SQL, 'pg_rewrite', 'rule')).map((r) => ({
    id: `rule:${r.oid}`,
    name: r.name,
    tableId: `rel:${r.table_oid}`,
    def: r.def,
    comment: r.comment,
  }));
  const policies: PolicyObj[] = (await safe.rows(POLICIES_SQL, 'pg_policy', 'policy')).map((r) => ({
    id: `policy:${r.oid}`,
    name: r.name,
    tableId: `rel:${r.table_oid}`,
    cmd: r.cmd,
    permissive: r.permissive,
    roles: r.roles,
    qual: r.qual,
    withCheck: r.with_check,
    comment: r.comment,
  }));

  for (const r of await rows(c, UNSUPPORTED_SQL)) notMigrated.push({ kind: r.kind, name: r.name, reason: r.reason });

  const base = (prefix: string, r: Row) => ({
    id: `${prefix}:${r.oid}`,
    oid: r.oid as string,
    schema: r.schema as string,
    name: r.name as string,
    owner: r.owner as string,
    comment: r.comment as string | null,
    acl: null,
  });
  const collations: CollationObj[] = (await rows(c, COLLATIONS_SQL)).map((r) => ({
    ...base('coll', r),
    provider: r.provider,
    lcCollate: r.lc_collate,
    lcCtype: r.lc_ctype,
    locale: r.locale,
    rules: r.rules,
    deterministic: r.deterministic,
  }));
  const statistics: StatisticsObj[] = (await safe.rows(STATISTICS_SQL, 'pg_statistic_ext', 'stat')).map((r) => ({
    ...base('stat', r),
    tableId: `rel:${r.table_oid}`,
    def: r.def,
    statTarget: r.stat_target,
  }));
  const operators: OperatorObj[] = (await rows(c, OPERATORS_SQL)).map((r) => ({
    ...base('op', r),
    left: r.left,
    right: r.right,
    proc: r.proc,
    commutator: r.commutator,
    negator: r.negator,
    restrict: r.restrict,
    join: r.join,
    hashes: r.hashes,
    merges: r.merges,
  }));
  const opFamilies: OpFamilyObj[] = (await rows(c, OPFAMILIES_SQL)).map((r) => ({
    ...base('opf', r),
    am: r.am,
    ops: r.ops,
    procs: r.procs,
  }));
  const opClasses: OpClassObj[] = (await rows(c, OPCLASSES_SQL)).map((r) => ({
    ...base('opc', r),
    am: r.am,
    isDefault: r.is_default,
    type: r.type,
    storage: r.storage,
    family: r.family,
    ops: r.ops,
    procs: r.procs,
  }));
  const casts: CastObj[] = (await rows(c, CASTS_SQL)).map((r) => ({
    id: `cast:${r.oid}`,
    oid: r.oid,
    source: r.source,
    target: r.target,
    method: r.method,
    context: r.context,
    func: r.func,
    funcId: r.func_oid ? `func:${r.func_oid}` : null,
    schemas: r.schemas,
    comment: r.comment,
  }));
  const tsDicts: TsDictObj[] = (await rows(c, TS_DICTS_SQL)).map((r) => ({
    ...base('tsdict', r),
    template: r.template,
    templateMigratable: r.template_ok,
    options: r.options,
  }));
  const tsConfigs: TsConfigObj[] = (await rows(c, TS_CONFIGS_SQL)).map((r) => ({
    ...base('tscfg', r),
    parser: r.parser,
    parserMigratable: r.parser_ok,
    maps: r.maps,
  }));
  const fdws: FdwObj[] = (await rows(c, FDWS_SQL)).map((r) => ({
    id: `fdw:${r.oid}`,
    oid: r.oid,
    name: r.name,
    owner: r.owner,
    comment: r.comment,
    acl: acl(r.acl),
    handler: r.handler,
    validator: r.validator,
    options: r.options,
  }));
  const servers: ServerObj[] = (await rows(c, SERVERS_SQL)).map((r) => ({
    id: `srv:${r.oid}`,
    oid: r.oid,
    name: r.name,
    owner: r.owner,
    comment: r.comment,
    acl: acl(r.acl),
    fdw: r.fdw,
    type: r.type,
    version: r.version,
    options: r.options,
  }));
  const userMappings: UserMappingObj[] = (await rows(c, USER_MAPPINGS_SQL)).map((r) => ({
    id: `um:${r.oid}`,
    oid: r.oid,
    server: r.server,
    serverId: `srv:${r.server_oid}`,
    user: r.user,
    options: r.options,
    hidden: r.hidden,
  }));
  const foreignTables: ForeignTableObj[] = (await rows(c, FOREIGN_TABLES_SQL)).map((r) => ({
    ...base('rel', r),
    acl: acl(r.acl),
    server: r.server,
    serverId: `srv:${r.server_oid}`,
    options: r.options,
    columns: r.columns,
    unsupported: r.unsupported,
  }));
  const eventTriggers: EventTriggerObj[] = (await rows(c, EVENT_TRIGGERS_SQL)).map((r) => ({
    id: `evt:${r.oid}`,
    oid: r.oid,
    name: r.name,
    owner: r.owner,
    comment: r.comment,
    event: r.event,
    func: r.func,
    funcId: `func:${r.func_oid}`,
    enabled: r.enabled,
    tags: r.tags,
  }));
  const publications: PublicationObj[] = (await rows(c, publicationsSql(version))).map((r) => ({
    id: `pub:${r.oid}`,
    oid: r.oid,
    name: r.name,
    owner: r.owner,
    comment: r.comment,
    allTables: r.all_tables,
    publish: r.publish,
    viaRoot: r.via_root,
    tables: (r.tables as Row[]).map((t) => ({
      id: `rel:${t.oid}`,
      schema: t.schema,
      name: t.name,
      columns: t.columns,
      where: t.where,
    })),
    schemas: r.schemas,
  }));
  const defaultAcls: DefaultAclObj[] = (await rows(c, DEFAULT_ACLS_SQL)).map((r) => ({
    id: `defacl:${r.oid}`,
    oid: r.oid,
    role: r.role,
    schema: r.schema,
    objType: r.obj_type,
    acl: r.acl,
    base: r.base,
  }));
  const conversions: ConversionObj[] = (await rows(c, CONVERSIONS_SQL)).map((r) => ({
    ...base('conv', r),
    forEncoding: r.for_encoding,
    toEncoding: r.to_encoding,
    proc: r.proc,
    isDefault: r.is_default,
  }));

  const dependencies = await readDependencies(c, { types, sequences, tables, views, functions }, t);
  dependencies.splice(0, dependencies.length, ...shellEdges(dependencies, types));
  // Objects a catalog function failed on: not migrated (listed first), and what depends on them neither.
  const unreadable = safe.unreadable.map(({ kind, name, reason, schema }) => ({ kind, name, reason, schema }));
  notMigrated.unshift(...unreadable.map(({ kind, name, reason }) => ({ kind, name, reason })));
  for (const u of safe.unreadable) skipped.push({ id: u.id, name: u.name });
  // Edges pg_depend does not record (or records on a catalog we do not map).
  const famId = new Map(opFamilies.map((f) => [`${f.schema}\u0000${f.name}\u0000${f.am}`, f.id]));
  const extra = (from: string, to: string | undefined | null) => {
    if (to && from !== to) dependencies.push({ from, to });
  };
  for (const k of opClasses) extra(k.id, famId.get(`${k.family[0]}\u0000${k.family[1]}\u0000${k.am}`));
  for (const u of userMappings) extra(u.id, u.serverId);
  for (const e of eventTriggers) extra(e.id, e.funcId);
  const srvByName = new Map(servers.map((x) => [x.name, x.id]));
  const fdwByName = new Map(fdws.map((x) => [x.name, x.id]));
  for (const x of servers) extra(x.id, fdwByName.get(x.fdw));
  for (const f of foreignTables) extra(f.id, srvByName.get(f.server));
  return deepFreeze({
    serverVersionNum: version,
    sourceUser: who.u,
    bootstrapUser: who.b,
    facts,
    schemas,
    extensions,
    types,
    sequences,
    tables,
    indexes,
    foreignKeys,
    views,
    functions,
    triggers,
    rules,
    policies,
    collations,
    statistics,
    operators,
    opFamilies,
    opClasses,
    casts,
    tsDicts,
    tsConfigs,
    fdws,
    servers,
    userMappings,
    foreignTables,
    eventTriggers,
    publications,
    defaultAcls,
    conversions,
    dependencies,
    notMigrated,
    skipped,
    unreadable,
  });
}

async function readDependencies(
  c: pg.Client,
  m: { types: TypeObj[]; sequences: SequenceObj[]; tables: TableObj[]; views: ViewObj[]; functions: FunctionObj[] },
  t: Interner,
): Promise<Dependency[]> {
  const typeAlias = new Map<string, string>();
  for (const r of await rows(c, TYPE_ALIASES_SQL)) typeAlias.set(r.alias, r.target);
  const compositeRel = new Map<string, string>();
  for (const t of m.types) if (t.relid) compositeRel.set(`rel:${t.relid}`, t.id);
  const conOwner = new Map<string, string>();
  const keyCons = new Set<string>();
  for (const r of await rows(c, CONSTRAINT_OWNERS_SQL)) {
    if (r.contype === 'c') conOwner.set(r.con, r.owner);
    if (r.contype === 'p' || r.contype === 'u' || r.contype === 'x') keyCons.add(r.con);
  }
  const viewIds = new Set(m.views.map((v) => v.id));
  const identitySeq = new Map<string, string>();
  for (const s of m.sequences) if (s.identityOf) identitySeq.set(s.id, s.identityOf.tableId);
  const seqIds = new Set(m.sequences.map((s) => s.id));
  const deferredDefaults = new Set<string>();
  for (const t of m.tables)
    for (const col of t.columns)
      if (col.default != null && col.defaultHasFuncDeps) deferredDefaults.add(`default:${t.oid}:${col.num}`);

  const extMember = new Map<string, string>();
  for (const r of await rows(c, EXTENSION_MEMBERS_SQL)) if (r.member) extMember.set(r.member, r.ext);
  const resolve = (id: string | null): string | null => {
    if (!id) return null;
    if (extMember.has(id)) return extMember.get(id)!;
    for (let i = 0; i < 4; i++) {
      const a = typeAlias.get(id);
      if (!a || a === id) break;
      id = a;
      if (extMember.has(id)) return extMember.get(id)!;
    }
    if (compositeRel.has(id)) return compositeRel.get(id)!;
    if (id.startsWith('con:')) return conOwner.get(id) ?? null;
    if (id.startsWith('default:')) return deferredDefaults.has(id) ? id : `rel:${id.split(':')[1]}`;
    if (identitySeq.has(id)) return identitySeq.get(id)!;
    return id;
  };
  const seen = new Set<string>();
  const out: Dependency[] = [];
  for (const r of await rows(c, DEPEND_SQL)) {
    // A sequence's auto/internal dependency on its table is OWNED BY / identity, not a creation order.
    if (seqIds.has(r.obj) && (r.deptype === 'a' || r.deptype === 'i')) continue;
    const from = resolve(r.obj);
    // A view valid only through a table's key (functional dependency), or a rule naming it (ON CONFLICT ON
    // CONSTRAINT), depends on that constraint: keys are built after the data.
    const keyUser = from !== null && (viewIds.has(from) || from.startsWith('rule:') || from.startsWith('func:'));
    const to = keyCons.has(r.ref) && keyUser ? r.ref : resolve(r.ref);
    if (!from || !to || from === to) continue;
    const k = `${from}>${to}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push({ from: t.text(from), to: t.text(to) });
  }
  return out;
}

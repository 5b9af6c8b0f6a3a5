/**
 * The part of the catalog model a selection needs, applied to the model before DDL generation:
 *
 *  - A partition selected without its parent becomes a plain table of its own (not attached).
 *  - A partition selected with its root takes the root's per-table options (where, columns, columnMap).
 *  - Triggers named by excludeTriggers are left out.
 *  - With includeTables, only what the selected tables need is kept: the pg_depend closure from the
 *    tables, their indexes, policies, rules, statistics, owned and identity sequences and trigger
 *    functions — types (and the types those use), sequences, functions (and those their bodies call
 *    by name), collations, extensions and the schemas these live in. Views, other objects of those
 *    schemas, publications, default privileges and event triggers stay behind, as with
 *    pg_dump --table. A whole-schema selection keeps everything.
 */
import type { CatalogModel, FunctionObj, TableObj, TriggerObj } from '../catalog/model.js';
import { tableKey, type Selection } from '../../../core/selection.js';
import { parseQualifiedName, qualify } from '../../../core/ident.js';

export interface SelectedModel {
  model: CatalogModel;
  warnings: string[];
}

export function selectModel(m: CatalogModel, sel: Selection): SelectedModel {
  const warnings: string[] = [];
  const selected = selectedTables(m, sel);
  let model = detachPartitions(m, selected, warnings);
  // one lookup table, not a scan of every relation per trigger (a trigger on each of 20,000 tables)
  const owners = new Map<string, { schema: string; name: string }>();
  for (const r of [...model.foreignTables, ...model.views, ...model.tables]) owners.set(r.id, r);
  const triggers = model.triggers.filter((tg) => !excludedTrigger(owners, sel, tg));
  model = { ...model, triggers };
  if (sel.task.includeTables.length) {
    model = narrow(model, sel, selected);
    sel.keepSequences(model.sequences.map((s) => tableKey(s.schema, s.name)));
  }
  return { model, warnings };
}

/** Ids of the selected tables, by the generator's rule: a partition also goes with its selected root. */
export function selectedTables(m: CatalogModel, sel: Selection): Set<string> {
  const byId = new Map(m.tables.map((t) => [t.id, t]));
  const out = new Set<string>();
  for (const t of m.tables) {
    const root = rootOf(t, byId);
    if (sel.tableSelected(t.schema, t.name)) out.add(t.id);
    else if (
      t.isPartition &&
      sel.schemaSelected(t.schema) &&
      !sel.leftOutTable(t.schema, t.name) &&
      sel.tableSelected(root.schema, root.name)
    )
      out.add(t.id);
    if (t.isPartition && root !== t) sel.bindPartition(t.schema, t.name, root.schema, root.name);
  }
  return out;
}

function rootOf(t: TableObj, byId: Map<string, TableObj>): TableObj {
  let cur = t;
  for (let i = 0; i < 64 && cur.isPartition && cur.parents[0]; i++) {
    const p = byId.get(cur.parents[0].id);
    if (!p) break;
    cur = p;
  }
  return cur;
}

/** Selected partitions whose parent is not selected: plain tables with all columns and checks their own. */
function detachPartitions(m: CatalogModel, selected: Set<string>, warnings: string[]): CatalogModel {
  const detached = new Map<string, string>();
  const tables = m.tables.map((t) => {
    const parent = t.isPartition ? t.parents[0] : undefined;
    if (!parent || !selected.has(t.id) || selected.has(parent.id)) return t;
    detached.set(t.id, parent.id);
    const parentName = qualify(parent.schema, parent.name);
    warnings.push(
      `table ${qualify(t.schema, t.name)} is a partition of ${parentName}, which is not selected: ` +
        `it is created as a plain table of its own (not attached; the parent's triggers do not apply to it). ` +
        `Select ${parentName} to migrate the partitioned table`,
    );
    return {
      ...t,
      isPartition: false,
      parents: [],
      partBound: null,
      columns: t.columns.map((c) => ({ ...c, isLocal: true, inhCount: 0 })),
      checks: t.checks.map((k) => ({ ...k, isLocal: true })),
    };
  });
  if (!detached.size) return m;
  const dependencies = m.dependencies.filter((d) => detached.get(d.from) !== d.to);
  return { ...m, tables, dependencies };
}

function excludedTrigger(
  owners: Map<string, { schema: string; name: string }>,
  sel: Selection,
  tg: TriggerObj,
): boolean {
  const t = owners.get(tg.tableId);
  return t !== undefined && sel.triggerExcluded(t.schema, t.name, tg.name);
}

/** The function a trigger executes, read from its definition (EXECUTE FUNCTION schema.name(args)). */
export function triggerFunction(def: string, functions: readonly FunctionObj[]): FunctionObj | undefined {
  const hit = / EXECUTE (?:FUNCTION|PROCEDURE) ([\s\S]*)$/.exec(def);
  if (!hit) return undefined;
  const text = hit[1];
  let quoted = false;
  let end = 0;
  for (; end < text.length; end++) {
    if (text[end] === '"') quoted = !quoted;
    else if (text[end] === '(' && !quoted) break;
  }
  let parts: string[];
  try {
    parts = parseQualifiedName(text.slice(0, end));
  } catch {
    return undefined;
  }
  if (parts.length !== 2) return undefined;
  return functions.find((f) => f.schema === parts[0] && f.name === parts[1] && f.identityArgs === '');
}

/**
 * For verification: does an object of this inventory kind (functions, types, views, matviews,
 * sequences; source schema and name, functions without arguments) belong to the selection?
 */
export type ObjectFilter = (kind: string, schema: string, name: string) => boolean;

export function keptObjects(source: CatalogModel, sel: Selection): ObjectFilter {
  const m = selectModel(source, sel).model;
  const names = new Set<string>();
  const add = (kind: string, list: readonly { schema: string; name: string }[]) => {
    for (const x of list) names.add(`${kind}\u0000${x.schema}\u0000${x.name}`);
  };
  add('functions', m.functions);
  add('types', m.types);
  add('sequences', m.sequences);
  add(
    'views',
    m.views.filter((v) => v.relkind === 'v'),
  );
  add(
    'matviews',
    m.views.filter((v) => v.relkind === 'm'),
  );
  return (kind, schema, name) =>
    !['functions', 'types', 'sequences', 'views', 'matviews'].includes(kind) ||
    names.has(`${kind}\u0000${schema}\u0000${kind === 'functions' ? name.replace(/\(.*$/s, '') : name}`);
}

/** Seeds of the closure: the selected tables and what belongs to them. */
function seeds(m: CatalogModel, sel: Selection, selected: Set<string>): string[] {
  const out = [...selected];
  for (const t of m.tables) if (selected.has(t.id)) for (const c of t.columns) out.push(`default:${t.oid}:${c.num}`);
  for (const f of m.foreignTables) if (sel.tableSelected(f.schema, f.name)) out.push(f.id);
  for (const list of [m.indexes, m.policies, m.rules, m.statistics]) {
    for (const x of list as readonly { id: string; tableId: string }[]) if (selected.has(x.tableId)) out.push(x.id);
  }
  for (const s of m.sequences) {
    const owner = s.ownedBy?.tableId ?? s.identityOf?.tableId;
    if (owner && selected.has(owner)) out.push(s.id);
  }
  for (const tg of m.triggers) {
    if (!selected.has(tg.tableId)) continue;
    const f = triggerFunction(tg.def, m.functions);
    if (f) out.push(f.id);
  }
  return out;
}

/** Everything reachable from the seeds along pg_depend edges (from depends on to). */
function closure(m: CatalogModel, start: string[]): Set<string> {
  const edges = new Map<string, string[]>();
  for (const d of m.dependencies) edges.set(d.from, [...(edges.get(d.from) ?? []), d.to]);
  const seen = new Set<string>(start);
  const todo = [...start];
  while (todo.length) {
    for (const to of edges.get(todo.pop()!) ?? []) {
      if (!seen.has(to)) {
        seen.add(to);
        todo.push(to);
      }
    }
  }
  return seen;
}

/**
 * Functions called from the bodies of kept functions (PL/pgSQL records no dependency on them):
 * `schema.name(` anywhere, or `name(` for a function of the caller's own schema. Repeated with
 * the pg_depend closure until nothing new comes in.
 */
function withCallees(m: CatalogModel, start: string[]): Set<string> {
  let keep = closure(m, start);
  const byId = new Map(m.functions.map((f) => [f.id, f]));
  for (let round = 0; round < 16; round++) {
    const bodies = [...keep].map((id) => byId.get(id)).filter((f): f is FunctionObj => !!f?.def);
    const found = m.functions.filter(
      (g) =>
        !keep.has(g.id) &&
        bodies.some((f) => f.def!.includes(g.name) && callPattern(g, g.schema === f.schema).test(bodyText(f.def!))),
    );
    if (!found.length) break;
    keep = closure(m, [...keep, ...found.map((g) => g.id)]);
  }
  return keep;
}

/** A call of `f`: schema-qualified, or (own schema) also unqualified; quoted or not. */
function callPattern(f: FunctionObj, ownSchema: boolean): RegExp {
  const esc = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const name = `(${esc(f.name)}|"${esc(f.name)}")`;
  const schema = `(${esc(f.schema)}|"${esc(f.schema)}")\\s*\\.\\s*`;
  return new RegExp(`(^|[^\\w$."])${ownSchema ? `(${schema})?` : schema}${name}\\s*\\(`, 'i');
}

/** The part of a CREATE FUNCTION text after AS (the body), or the whole text. */
function bodyText(def: string): string {
  const i = def.search(/\sAS\s|\sBEGIN\s+ATOMIC\s/i);
  return i < 0 ? def : def.slice(i);
}

function narrow(m: CatalogModel, sel: Selection, selected: Set<string>): CatalogModel {
  const keep = withCallees(m, seeds(m, sel, selected));
  const has = <T extends { id: string }>(list: readonly T[]) => list.filter((x) => keep.has(x.id));
  const kept = {
    types: has(m.types),
    functions: has(m.functions),
    views: has(m.views),
    collations: has(m.collations),
    conversions: has(m.conversions),
    operators: has(m.operators),
    opFamilies: has(m.opFamilies),
    opClasses: has(m.opClasses),
    tsDicts: has(m.tsDicts),
    tsConfigs: has(m.tsConfigs),
    statistics: has(m.statistics),
    foreignTables: has(m.foreignTables),
    sequences: m.sequences.filter((s) => keep.has(s.id) || s.identityOf !== null),
  };
  const schemaNames = new Set<string>(m.tables.filter((t) => selected.has(t.id)).map((t) => t.schema));
  for (const list of Object.values(kept)) {
    for (const x of list as readonly { schema: string }[]) schemaNames.add(x.schema);
  }
  const servers = has(m.servers);
  const serverIds = new Set(servers.map((s) => s.id));
  // Functions pgferry cannot create (C, internal) that the tables do not need are no concern of this selection.
  const unneeded = new Set(m.skipped.filter((x) => !keep.has(x.id)).map((x) => x.name));
  return {
    ...m,
    ...kept,
    servers,
    notMigrated: m.notMigrated.filter((n) => !unneeded.has(n.name)),
    schemas: m.schemas.filter((s) => keep.has(s.id) || schemaNames.has(s.name)),
    extensions: has(m.extensions),
    casts: has(m.casts),
    fdws: has(m.fdws),
    userMappings: m.userMappings.filter((u) => serverIds.has(u.serverId)),
    eventTriggers: [],
    publications: [],
    defaultAcls: [],
  };
}

/**
 * Ordering the pre-data statements: what depends on an object that is not selected or not migrated
 * is dropped (and reported, with the reason), views that cannot be created in one step get a
 * placeholder (./placeholders.ts), and the rest is sorted by pg_depend (./toposort.ts).
 */
import { qualify, quoteIdent } from '../../../core/ident.js';
import { shellId, supportFuncIds } from '../catalog/basetypes.js';
import type { CatalogModel } from '../catalog/model.js';
import { RANK, type DdlContext, type PreNode } from './context.js';
import { placeholderId, placeholderSql, planPlaceholders, type PlaceholderPlan } from './placeholders.js';
import { topoSort } from './toposort.js';

type Deps = Map<string, Set<string>>;

export interface PreOrder {
  /** Pre-data nodes in creation order. */
  ordered: PreNode[];
  keptIds: Set<string>;
  /** Node id → why it is not migrated. */
  dropped: Map<string, string>;
  deps: Deps;
  views: PlaceholderPlan;
}

export function orderPre(ctx: DdlContext): PreOrder {
  const { pre } = ctx;
  const extraNames = otherNames(ctx.m);
  const deps = dependencies(ctx);
  const dropped = unavailable(ctx, deps, extraNames);
  const views = viewPlaceholders(
    ctx,
    deps,
    pre.filter((p) => !dropped.has(p.id)),
  );
  const kept = pre.filter((p) => {
    const why = dropped.get(p.id);
    if (why) ctx.notMigrated.push({ kind: p.stmt.kind, name: p.stmt.name, reason: why });
    return !why;
  });
  const ordered = topoSort(kept, deps, (cycle) =>
    ctx.warnings.push(`dependency cycle among ${cycle.join(', ')}; created in catalog order`),
  );
  return { ordered, keptIds: new Set(ordered.map((p) => p.id)), dropped, deps, views };
}

/** Display names of the objects outside the main families, for "depends on …". */
function otherNames(m: CatalogModel): Map<string, string> {
  return new Map<string, string>([
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
}

/** pg_depend edges, plus those of statements pgferry adds (OWNED BY, defaults, shell types, inheritance). */
function dependencies(ctx: DdlContext): Deps {
  const { m, pre } = ctx;
  const present = new Set(pre.map((p) => p.id));
  const seqByOwnedId = new Map(m.sequences.map((x) => [`owned:${x.oid}`, x]));
  const deps: Deps = new Map();
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
    const t = ctx.tablesById.get(p.id);
    if (t) for (const par of t.parents) s.add(par.id);
    deps.set(p.id, s);
  }
  return deps;
}

/** Nodes depending (transitively) on a known object that is not created: id → reason. */
function unavailable(ctx: DdlContext, deps: Deps, extraNames: Map<string, string>): Map<string, string> {
  const { m, pre } = ctx;
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
  const dropped = new Map<string, string>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const p of pre) {
      if (dropped.has(p.id)) continue;
      for (const d of deps.get(p.id) ?? []) {
        if ((known.has(d) && !present.has(d)) || dropped.has(d)) {
          const what = describe(ctx, extraNames, d);
          const why =
            dropped.has(d) || ctx.unmigrated.has(d)
              ? `depends on ${what}, which is not migrated`
              : `depends on ${what}, which is not selected`;
          dropped.set(p.id, why);
          changed = true;
          break;
        }
      }
    }
  }
  return dropped;
}

function describe(ctx: DdlContext, extraNames: Map<string, string>, id: string): string {
  const { m } = ctx;
  if (id.startsWith('shell:')) id = `type:${id.slice(6)}`;
  const o =
    ctx.tablesById.get(id) ??
    ctx.viewsById.get(id) ??
    m.types.find((x) => x.id === id) ??
    m.functions.find((x) => x.id === id) ??
    m.sequences.find((x) => x.id === id);
  if (o) return qualify(o.schema, o.name);
  if (ctx.names.has(id)) return ctx.names.get(id)!;
  if (extraNames.has(id)) return extraNames.get(id)!;
  const pn = ctx.pre.find((x) => x.id === id);
  return pn ? pn.stmt.name : id;
}

/** Placeholders for views in cycles, reading themselves or needing a key (see ./placeholders.ts). */
function viewPlaceholders(ctx: DdlContext, deps: Deps, live: PreNode[]): PlaceholderPlan {
  const plan = planPlaceholders(ctx.m.views, deps, new Set(live.map((p) => p.id)));
  for (const id of plan.placeholders) {
    const v = ctx.viewsById.get(id)!;
    const node = live.find((p) => p.id === id)!;
    const what = `view ${node.stmt.name}`;
    node.stmt.sql = node.stmt.sql.replace(/^CREATE VIEW /, 'CREATE OR REPLACE VIEW ');
    delete node.stmt.drop;
    const sql = placeholderSql(
      node.stmt.name,
      v,
      (t) => ctx.rw(t, what),
      (c) => ctx.q(c[0], c[1]),
    );
    ctx.pre.push({
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

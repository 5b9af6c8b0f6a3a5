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
 *
 * One generator per object family (./families/), over the context they share (./context.ts).
 */
import type { CatalogModel, IndexObj, NotMigrated, TypeObj } from '../catalog/model.js';
import type { Selection } from '../../../core/selection.js';
import { tableKey } from '../../../core/selection.js';
import type { Statement } from '../../../core/statement.js';
import { selectModel } from './closure.js';
import { DdlContext } from './context.js';
import { orderPre, type PreOrder } from './order.js';
import { compactStatements } from './compact.js';
import { lateClosure } from './placeholders.js';
import { schemas } from './families/schemas.js';
import { extensions } from './families/extensions.js';
import { types } from './families/types.js';
import { sequences } from './families/sequences.js';
import { functions } from './families/functions.js';
import { tables } from './families/tables.js';
import { views } from './families/views.js';
import { rules } from './families/rules.js';
import { policies } from './families/policies.js';
import { collations, conversions } from './families/collations.js';
import { operatorClasses, operatorFamilies, operators } from './families/operators.js';
import { casts } from './families/casts.js';
import { tsConfigurations, tsDictionaries } from './families/text-search.js';
import { foreignDataWrappers, foreignServers, foreignTables, userMappings } from './families/foreign-data.js';
import { statistics } from './families/statistics.js';
import { indexes } from './families/indexes.js';
import { foreignKeys } from './families/foreign-keys.js';
import { triggers } from './families/triggers.js';
import { matviewRefresh } from './families/matviews.js';
import { publications } from './families/publications.js';
import { defaultPrivileges } from './families/default-privileges.js';
import { eventTriggers } from './families/event-triggers.js';

export interface GeneratedSchema {
  statements: Statement[];
  warnings: string[];
  notMigrated: NotMigrated[];
  /** Selected objects and where they go (for `plan`). */
  objects: { kind: string; source: string; target: string }[];
  /** Keys of selected tables that are not created (not migrated): their rows are not copied. */
  tablesNotCreated: string[];
}

/** Pre-data families, in the order they are generated (pg_depend orders their statements afterwards). */
const PRE_FAMILIES: ((ctx: DdlContext) => void)[] = [
  schemas,
  extensions,
  types,
  sequences,
  functions,
  tables,
  views,
  rules,
  policies,
  collations,
  conversions,
  operators,
  operatorFamilies,
  operatorClasses,
  casts,
  tsDictionaries,
  tsConfigurations,
  foreignDataWrappers,
  foreignServers,
  userMappings,
  foreignTables,
  statistics,
];

export function generateDdl(source: CatalogModel, sel: Selection): GeneratedSchema {
  const { model, warnings } = selectModel(source, sel);
  const ctx = new DdlContext(model, sel, warnings);
  for (const family of PRE_FAMILIES) family(ctx);
  const order = orderPre(ctx);
  const { keptIds } = order;
  const idx = indexes(ctx, keptIds);
  foreignKeys(ctx, keptIds);
  triggers(ctx, keptIds);
  matviewRefresh(ctx, order.ordered, idx.mviewIdx);
  // after everything else: publications, default privileges, event triggers (they would fire on our own DDL)
  publications(ctx, keptIds);
  defaultPrivileges(ctx);
  eventTriggers(ctx, keptIds);
  const objects = ctx.objects
    .filter((o) => !order.dropped.has(o.id))
    .map(({ kind, source, target }) => ({ kind, source, target }));
  return {
    statements: compactStatements(assemble(ctx, order, idx.parted), objects, ctx.compact),
    warnings: [...new Set(ctx.warnings)],
    notMigrated: ctx.notMigrated,
    tablesNotCreated: tablesNotCreated(ctx, keptIds),
    objects,
  };
}

/**
 * Views valid only through a key built after the data: their real definition replaces the placeholder
 * first thing in late. Other objects needing such a key are created there too, with what depends on them.
 */
function assemble(ctx: DdlContext, order: PreOrder, parted: Statement[]): Statement[] {
  const { ordered, deps, views } = order;
  const toLate = new Set([...views.late, ...lateClosure(ordered, deps, views.placeholders)]);
  const lateViews = ordered.filter((p) => toLate.has(p.id)).map((p): Statement => ({ ...p.stmt, section: 'late' }));
  return [
    ...ordered.filter((p) => !toLate.has(p.id)).map((p) => p.stmt),
    ...parted,
    ...ctx.early,
    ...lateViews,
    ...ctx.late,
  ];
}

function tablesNotCreated(ctx: DdlContext, keptIds: Set<string>): string[] {
  return [
    ...[...ctx.selTables.values()].filter((t) => !keptIds.has(t.id)).map((t) => tableKey(t.schema, t.name)),
    ...(ctx.m.unreadable ?? [])
      .filter((u) => u.kind === 'table' && u.schema !== null && ctx.sel.schemaSelected(u.schema))
      .map((u) => u.name),
  ];
}

export type { TypeObj, IndexObj };

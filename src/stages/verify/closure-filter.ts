/**
 * With includeTables, only the objects the selected tables need are migrated (ddl/closure.ts):
 * the object inventories of both sides are compared on those alone.
 */
import type pg from 'pg';
import { introspect } from '../schema/catalog/introspect.js';
import { keptObjects, type ObjectFilter } from '../schema/ddl/closure.js';
import type { Selection } from '../../core/selection.js';

export interface InventoryFilters {
  /** Source objects by source schema and name. */
  source?: ObjectFilter;
  /** Target objects by target (mapped) schema and name. */
  target?: ObjectFilter;
}

export async function closureFilters(source: pg.Client, sel: Selection): Promise<InventoryFilters> {
  if (!sel.task.includeTables.length) return {};
  const keep = keptObjects(await introspect(source), sel);
  const fromTarget = new Map(Object.entries(sel.task.mapSchemas).map(([from, to]) => [to, from]));
  return {
    source: keep,
    target: (kind, schema, name) => keep(kind, fromTarget.get(schema) ?? schema, name),
  };
}

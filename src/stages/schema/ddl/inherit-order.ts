/**
 * Inheritance children whose column order differs from what CREATE TABLE … INHERITS would give
 * (the parents' columns first, in their order, then the child's own): a column added to the parent
 * after the child existed, or a child made with its own order and then ALTER TABLE … INHERIT.
 * Such a child is created as a plain table with the source's column order and then attached with
 * ALTER TABLE … INHERIT, which keeps the order (pg_dump reorders it). Its columns and CHECK
 * constraints are then local on the target too (as after ALTER TABLE … INHERIT on the source).
 */
import type { TableObj } from '../catalog/model.js';

/** Column names in the order CREATE TABLE … INHERITS (parents) would give. */
export function inheritsOrder(t: TableObj, parents: TableObj[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const put = (name: string) => {
    if (!seen.has(name)) {
      seen.add(name);
      out.push(name);
    }
  };
  for (const p of parents) for (const c of p.columns) put(c.name);
  for (const c of t.columns) if (c.isLocal) put(c.name);
  return out;
}

/** Does this inheritance child need its own column order (plain CREATE TABLE, then INHERIT)? */
export function needsOwnColumnOrder(t: TableObj, byId: Map<string, TableObj>): boolean {
  if (t.isPartition || !t.parents.length) return false;
  const parents = t.parents.map((p) => byId.get(p.id));
  if (parents.some((p) => p === undefined)) return false;
  const natural = inheritsOrder(t, parents as TableObj[]);
  const actual = t.columns.map((c) => c.name);
  return natural.length !== actual.length || natural.some((n, i) => n !== actual[i]);
}

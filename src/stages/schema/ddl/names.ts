/** The selection's renames as maps for rewriting deparsed SQL (./rewrite.ts). */
import type { CatalogModel } from '../catalog/model.js';
import type { Selection } from '../../../core/selection.js';
import type { NameMap } from './rewrite.js';

/** Schema renames, and table renames keyed "schema \0 table". */
export function nameMap(m: CatalogModel, sel: Selection): NameMap {
  const map: NameMap = { schemas: new Map(), tables: new Map() };
  for (const [from, to] of Object.entries(sel.task.mapSchemas)) if (from !== to) map.schemas.set(from, to);
  for (const t of m.tables) {
    const tn = sel.targetTable(t.schema, t.name).name;
    if (tn !== t.name) map.tables.set(`${t.schema}\u0000${t.name}`, tn);
  }
  return map;
}

/** Column renames per table id (tables without any are absent). */
export function columnMaps(m: CatalogModel, sel: Selection): Map<string, Map<string, string>> {
  const colMaps = new Map<string, Map<string, string>>();
  for (const t of m.tables) {
    const cm = new Map<string, string>();
    for (const c of t.columns) {
      const tc = sel.targetColumn(t.schema, t.name, c.name);
      if (tc !== c.name) cm.set(c.name, tc);
    }
    if (cm.size) colMaps.set(t.id, cm);
  }
  return colMaps;
}

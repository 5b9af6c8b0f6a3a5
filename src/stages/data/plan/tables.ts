/**
 * The tables whose rows move: every selected ordinary table and partition leaf (a partitioned
 * parent holds no rows; its leaves are copied one by one), with target names and the columns
 * to copy after column subsets and renames. Generated columns are left to the target. Derived
 * from the catalog facts (src/stages/schema/catalog/facts.ts) the schema stage read too.
 */
import type pg from 'pg';
import { PgferryError } from '../../../core/errors.js';
import type { Selection } from '../../../core/selection.js';
import { tableKey } from '../../../core/selection.js';
import type { CopyTable, QualifiedName } from './types.js';
import { readFacts, type CatalogFacts, type FactRelation } from '../../schema/catalog/facts.js';

/** The copy list from the catalog facts (read once per run with the catalog, in its snapshot). */
export function copyTablesOf(facts: CatalogFacts, sel: Selection): CopyTable[] {
  const out: CopyTable[] = [];
  for (const rel of facts.relations) {
    if (rel.kind !== 'r') continue;
    const root = rel.root;
    if (!partitionSelected(sel, rel.schema, rel.name, root)) continue;
    if (root !== null) sel.bindPartition(rel.schema, rel.name, root.schema, root.name);
    out.push(copyTableOf(rel, sel));
  }
  return out;
}

/** A table is selected by itself; a partition also with its root table (selecting the parent selects its leaves). */
export function partitionSelected(sel: Selection, schema: string, name: string, root: QualifiedName | null): boolean {
  return (
    sel.tableSelected(schema, name) ||
    (root !== null &&
      sel.tableSelected(root.schema, root.name) &&
      sel.schemaSelected(schema) &&
      !sel.leftOutTable(schema, name))
  );
}

/** One relation's copy entry: target names, the columns after subsets and renames, its row filter. */
export function copyTableOf(rel: FactRelation, sel: Selection): CopyTable {
  const copied = rel.columns.filter((c) => !c.generated);
  const subset = sel.columnSubset(rel.schema, rel.name);
  if (subset) {
    const missing = subset.filter((c) => !copied.some((col) => col.name === c));
    if (missing.length) {
      throw new PgferryError(
        'usage',
        `table ${tableKey(rel.schema, rel.name)}: column subset names unknown column(s) ${missing.join(', ')}`,
        {
          hint: 'list columns as they are named on the source (case-sensitive)',
        },
      );
    }
  }
  const cols = copied.filter((c) => !subset || subset.includes(c.name));
  return {
    key: tableKey(rel.schema, rel.name),
    source: { schema: rel.schema, name: rel.name },
    target: sel.targetTable(rel.schema, rel.name),
    columns: cols.map((c) => ({
      source: c.name,
      target: sel.targetColumn(rel.schema, rel.name, c.name),
      type: c.type,
    })),
    where: sel.rowFilter(rel.schema, rel.name),
    hasPrimaryKey: rel.hasKey,
  };
}

/** Read the catalog facts and list the tables (for a caller without a catalog read of its own). */
export async function listCopyTables(source: pg.Client, sel: Selection): Promise<CopyTable[]> {
  return copyTablesOf(await readFacts(source), sel);
}

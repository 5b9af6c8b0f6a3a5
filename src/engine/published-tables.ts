/**
 * What an incremental task's publication lists, and so what the apply maps onto the target.
 *
 * From PostgreSQL 13 a selected partitioned table whose partitions are all selected (none with
 * options of its own) is published itself, through its root: a partition created or attached on
 * the source later is covered, its changes arrive under the root's name and the target's root
 * routes them to its own partition. The copy still reads the partitions one by one.
 *
 * Otherwise — PostgreSQL 12, which cannot publish a partitioned table, a selection of only some
 * partitions, a partition with options of its own, or a root without a usable replica identity —
 * the partitions are listed one by one, and their roots are watched for partitions the
 * publication lacks (see src/stages/cdc/new-partitions.ts).
 */
import type pg from 'pg';
import type { QualifiedName } from '../core/qualified-name.js';
import { tableKey, type Selection } from '../core/selection.js';
import { serverVersionNum } from '../pg/connect.js';
import type { PartitionWatch } from '../stages/cdc/new-partitions.js';
import { replicaIdentities } from '../stages/cdc/publication.js';
import { copyTableOf, copyTablesOf, partitionSelected } from '../stages/data/plan/tables.js';
import type { CopyTable } from '../stages/data/plan/types.js';
import { type CatalogFacts, type FactRelation, readFacts } from '../stages/schema/catalog/facts.js';

export interface PublishedTables {
  /** The publication's tables: roots published through themselves, and every other copied table or partition. */
  tables: CopyTable[];
  /** What the apply watches: roots whose partitions are listed one by one (a later one is missing). */
  watch: PartitionWatch;
  /** Keys of the partitioned tables published through their root. */
  viaRoot: string[];
}

/** PostgreSQL 13 publishes a partitioned table (`publish_via_partition_root`). */
const ROOT_PUBLISHING = 130000;

/** The root's replica identity lets its updates and deletes be applied (the message names the key). */
function usableIdentity(root: FactRelation, ident: string | undefined): boolean {
  if (ident === 'f' || ident === 'i') return true;
  return ident === 'd' && root.pkColumns.length > 0;
}

/**
 * The publication's tables from the catalog facts: `identities` holds the partitioned roots'
 * replica identities (pg_class.relreplident by table key).
 */
export function publishedTablesOf(
  facts: CatalogFacts,
  sel: Selection,
  sourceVersion: number,
  identities: ReadonlyMap<string, string>,
): PublishedTables {
  const copied = copyTablesOf(facts, sel);
  const copiedKeys = new Set(copied.map((t) => t.key));
  const own = new Set(sel.optionKeys());
  const viaRoot = new Set<string>();
  const watched: QualifiedName[] = [];
  for (const root of facts.relations) {
    if (root.kind !== 'p' || root.isPartition) continue;
    const key = tableKey(root.schema, root.name);
    const leaves = facts.relations.filter(
      (r) => r.kind === 'r' && r.root?.schema === root.schema && r.root.name === root.name,
    );
    const leafKeys = leaves.map((r) => tableKey(r.schema, r.name));
    const rootSelected = sel.tableSelected(root.schema, root.name);
    if (
      sourceVersion >= ROOT_PUBLISHING &&
      rootSelected &&
      leafKeys.every((k) => copiedKeys.has(k) && !own.has(k)) &&
      usableIdentity(root, identities.get(key))
    ) {
      viaRoot.add(key);
    } else if (rootSelected || leafKeys.some((k) => copiedKeys.has(k))) {
      watched.push({ schema: root.schema, name: root.name });
    }
  }
  const isViaRoot = (t: CopyTable) => {
    const rel = facts.relations.find((r) => r.schema === t.source.schema && r.name === t.source.name);
    return rel?.root ? viaRoot.has(tableKey(rel.root.schema, rel.root.name)) : false;
  };
  const roots = facts.relations
    .filter((r) => r.kind === 'p' && viaRoot.has(tableKey(r.schema, r.name)))
    .map((r) => copyTableOf(r, sel));
  return {
    tables: [...copied.filter((t) => !isViaRoot(t)), ...roots],
    viaRoot: roots.map((t) => t.key),
    watch: {
      roots: watched,
      selected: (schema, name, root) => partitionSelected(sel, schema, name, root),
      target: (schema, name) => sel.targetTable(schema, name),
    },
  };
}

/** Read the catalog (in `c`'s snapshot) and list the publication's tables. */
export async function readPublishedTables(
  c: pg.Client,
  sel: Selection,
  facts?: CatalogFacts,
): Promise<PublishedTables> {
  const f = facts ?? (await readFacts(c));
  const roots = f.relations.filter((r) => r.kind === 'p' && !r.isPartition);
  const identities = roots.length ? await replicaIdentities(c, roots) : new Map<string, string>();
  return publishedTablesOf(f, sel, await serverVersionNum(c), identities);
}

/**
 * Catalog facts about the selected source objects, shared by the checks: a view of the facts
 * of the one catalog read (src/stages/schema/catalog/facts.ts), which the copy list derives from too.
 * Selection decisions go through `Selection` only (the same rule as plan/tables.ts: a
 * partition is selected with its root table).
 */
import type pg from 'pg';
import type { Selection } from '../../core/selection.js';
import { tableKey } from '../../core/selection.js';
import type { QualifiedName } from '../../core/qualified-name.js';
import { readFacts, type CatalogFacts } from '../schema/catalog/introspect.js';
import type { FactColumn } from '../schema/catalog/introspect.js';

/** A column of a selected table, as the catalog facts have it. */
export type SrcColumn = FactColumn;

export interface SrcTable {
  oid: string;
  schema: string;
  name: string;
  /** 'r' ordinary table or partition leaf, 'p' partitioned table */
  kind: 'r' | 'p';
  key: string;
  target: QualifiedName;
  owner: string;
  acl: string[] | null;
  hasKey: boolean;
  pkColumns: string[];
  bytes: number;
  tablespace: string | null;
  columns: SrcColumn[];
}

export interface SrcSchema {
  name: string;
  owner: string;
  acl: string[] | null;
}

export interface SrcSequence {
  oid: string;
  schema: string;
  name: string;
  owner: string;
  acl: string[] | null;
}

export interface SourceModel {
  user: string;
  superuser: boolean;
  database: string;
  schemas: SrcSchema[];
  tables: SrcTable[];
  sequences: SrcSequence[];
  /** Every non-system schema on the source, selected or not. */
  allSchemas: string[];
}

/** The partition rule of plan/tables.ts: a partition goes with its selected root. */
export function relationSelected(
  sel: Selection,
  r: { schema: string; name: string; is_partition: boolean; root_schema: string | null; root_name: string | null },
): boolean {
  return (
    sel.tableSelected(r.schema, r.name) ||
    (r.is_partition &&
      r.root_schema !== null &&
      sel.tableSelected(r.root_schema, r.root_name!) &&
      sel.schemaSelected(r.schema) &&
      !sel.leftOutTable(r.schema, r.name))
  );
}

/** The precheck's view of the catalog facts: the selected schemas, tables and sequences. */
export function sourceModelOf(facts: CatalogFacts, sel: Selection): SourceModel {
  const rels = facts.relations.filter((r) =>
    relationSelected(sel, {
      schema: r.schema,
      name: r.name,
      is_partition: r.isPartition,
      root_schema: r.root?.schema ?? null,
      root_name: r.root?.name ?? null,
    }),
  );
  const tables: SrcTable[] = rels.map((r) => ({
    oid: r.oid,
    schema: r.schema,
    name: r.name,
    kind: r.kind,
    key: tableKey(r.schema, r.name),
    target: sel.targetTable(r.schema, r.name),
    owner: r.owner,
    // the facts are frozen: their arrays are shared, not copied (20,000 tables' columns held twice otherwise)
    acl: r.acl,
    hasKey: r.hasKey,
    pkColumns: r.pkColumns,
    bytes: r.bytes,
    tablespace: r.tablespace,
    columns: r.columns,
  }));
  const selectedKeys = new Set(tables.map((t) => t.key));
  const sequences = facts.sequences
    .filter(
      (s) =>
        sel.schemaSelected(s.schema) &&
        (s.ownedBy === null || selectedKeys.has(tableKey(s.ownedBy.schema, s.ownedBy.name))),
    )
    .map(({ oid, schema, name, owner, acl }) => ({ oid, schema, name, owner, acl: acl && [...acl] }));
  const schema = (x: CatalogFacts['schemas'][number]): SrcSchema => ({ ...x, acl: x.acl && [...x.acl] });
  return {
    user: facts.user,
    superuser: facts.superuser,
    database: facts.database,
    schemas: facts.schemas.filter((x) => sel.schemaSelected(x.name)).map(schema),
    tables,
    sequences,
    allSchemas: facts.schemas.map((x) => x.name),
  };
}

/** Read the facts and view them (for callers without a catalog read of their own). */
export async function loadSourceModel(c: pg.Client, sel: Selection): Promise<SourceModel> {
  return sourceModelOf(await readFacts(c), sel);
}

/** Parse an aclitem text (`grantee=privs/grantor`) into its grantee ('' is PUBLIC). */
export function aclGrantee(item: string): string {
  // grantee may be quoted: "my role"=r/owner
  let i = 0;
  let name = '';
  if (item.startsWith('"')) {
    i = 1;
    while (i < item.length) {
      if (item[i] === '"') {
        if (item[i + 1] === '"') {
          name += '"';
          i += 2;
          continue;
        }
        break;
      }
      name += item[i++];
    }
    return name;
  }
  const eq = item.indexOf('=');
  return eq < 0 ? item : item.slice(0, eq);
}

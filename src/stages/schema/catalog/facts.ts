/** Reading the catalog facts: raw rows (shaped by ./sql/facts.ts) mapped to the CatalogFacts model. */
import type pg from 'pg';
import type { CatalogFacts, FactColumn, FactRelation } from './facts-model.js';
import { Interner } from '../../../core/intern.js';

export type { CatalogFacts, FactColumn, FactRelation, FactSchema, FactSequence } from './facts-model.js';
import { FACT_COLUMNS_SQL, FACT_RELATIONS_SQL, FACT_SCHEMAS_SQL, FACT_SEQUENCES_SQL, WHO_SQL } from './sql/facts.js';

interface WhoRow {
  u: string;
  su: boolean | null;
  db: string;
}

interface SchemaRow {
  name: string;
  owner: string;
  acl: string[] | null;
}

interface RelationRow {
  oid: string;
  schema: string;
  name: string;
  kind: 'r' | 'p';
  is_partition: boolean;
  root_schema: string | null;
  root_name: string | null;
  owner: string;
  acl: string[] | null;
  has_key: boolean;
  pk_columns: string[];
  bytes: string;
  tablespace: string | null;
}

interface ColumnRow {
  rel: string;
  name: string;
  num: number;
  type: string;
  type_schema: string;
  type_name: string;
  not_null: boolean;
  has_default: boolean;
  identity: boolean;
  generated: boolean;
  coll_schema: string | null;
  coll_name: string | null;
}

interface SequenceRow {
  oid: string;
  schema: string;
  name: string;
  owner: string;
  acl: string[] | null;
  owned_schema: string | null;
  owned_table: string | null;
}

const column = (r: ColumnRow, t: Interner): FactColumn => ({
  name: t.text(r.name),
  num: r.num,
  type: t.text(r.type),
  typeSchema: t.text(r.type_schema),
  typeName: t.text(r.type_name),
  notNull: r.not_null,
  hasDefault: r.has_default,
  identity: r.identity,
  generated: r.generated,
  collSchema: t.text(r.coll_schema),
  collName: t.text(r.coll_name),
});

const relation = (r: RelationRow, columns: FactColumn[], t: Interner): FactRelation => ({
  oid: t.text(r.oid),
  schema: t.text(r.schema),
  name: t.text(r.name),
  kind: r.kind,
  isPartition: r.is_partition,
  root: r.is_partition && r.root_schema !== null ? { schema: t.text(r.root_schema), name: t.text(r.root_name!) } : null,
  owner: t.text(r.owner),
  acl: t.list(r.acl),
  hasKey: r.has_key,
  pkColumns: t.list(r.pk_columns),
  bytes: Number(r.bytes),
  tablespace: t.text(r.tablespace),
  columns,
});

/** `t` keeps one copy of the texts the facts share with the rest of the model (a fresh one by default). */
export async function readFacts(c: pg.Client, t = new Interner()): Promise<CatalogFacts> {
  const who = (await c.query<WhoRow>(WHO_SQL)).rows[0];
  const schemas = (await c.query<SchemaRow>(FACT_SCHEMAS_SQL)).rows;
  const columns = new Map<string, FactColumn[]>();
  for (const r of (await c.query<ColumnRow>(FACT_COLUMNS_SQL)).rows) {
    const list = columns.get(r.rel);
    if (list) list.push(column(r, t));
    else columns.set(r.rel, [column(r, t)]);
  }
  const relations = (await c.query<RelationRow>(FACT_RELATIONS_SQL)).rows.map((r) =>
    // a copy of its exact length: the list grown by push keeps room for 17 columns
    relation(r, columns.get(r.oid)?.slice() ?? [], t),
  );
  const sequences = (await c.query<SequenceRow>(FACT_SEQUENCES_SQL)).rows.map((r) => ({
    oid: r.oid,
    schema: r.schema,
    name: r.name,
    owner: r.owner,
    acl: r.acl,
    ownedBy: r.owned_table !== null ? { schema: r.owned_schema!, name: r.owned_table } : null,
  }));
  return {
    user: who.u,
    superuser: who.su === true,
    database: who.db,
    schemas: schemas.map((s) => ({ name: s.name, owner: s.owner, acl: s.acl })),
    relations,
    sequences,
  };
}

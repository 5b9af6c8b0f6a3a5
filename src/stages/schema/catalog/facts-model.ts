/**
 * Facts about the source's schemas, relations and sequences, part of the frozen catalog model:
 * the precheck's items (src/stages/precheck/model.ts) and the data stage's copy list and
 * sequences (src/stages/data/plan/) derive from them, so a run reads the catalog once.
 */
import type { QualifiedName } from '../../../core/qualified-name.js';

export interface FactColumn {
  name: string;
  num: number;
  /** As format_type() prints it with the reading session's search_path (pgferry's: empty, so `public.mood`). */
  type: string;
  typeSchema: string;
  typeName: string;
  notNull: boolean;
  hasDefault: boolean;
  identity: boolean;
  generated: boolean;
  collSchema: string | null;
  collName: string | null;
}

export interface FactRelation {
  oid: string;
  schema: string;
  name: string;
  /** 'r' ordinary table or partition leaf, 'p' partitioned table */
  kind: 'r' | 'p';
  isPartition: boolean;
  /** The top of a partition's tree (null for a table that is no partition). */
  root: QualifiedName | null;
  owner: string;
  /** aclitem texts (`grantee=privs/grantor`), null for default privileges. */
  acl: string[] | null;
  /** A primary key or a unique index over NOT NULL columns without predicate or expressions. */
  hasKey: boolean;
  pkColumns: string[];
  /** pg_total_relation_size of a table holding rows (0 for a partitioned parent). */
  bytes: number;
  tablespace: string | null;
  columns: FactColumn[];
}

export interface FactSequence {
  oid: string;
  schema: string;
  name: string;
  owner: string;
  acl: string[] | null;
  /** The table of a serial or identity column using it. */
  ownedBy: QualifiedName | null;
}

export interface FactSchema {
  name: string;
  owner: string;
  acl: string[] | null;
}

export interface CatalogFacts {
  user: string;
  superuser: boolean;
  database: string;
  /** Every non-system schema. */
  schemas: FactSchema[];
  /** Every table and partitioned table outside extensions, in schema and name order. */
  relations: FactRelation[];
  sequences: FactSequence[];
}

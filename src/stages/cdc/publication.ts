/**
 * The task's publication on the source: exactly the selected tables, with each table's row filter
 * (PostgreSQL 15+). A partitioned table whose partitions are all selected is listed itself from
 * PostgreSQL 13 on, published through its root (`publish_via_partition_root`): a partition created
 * or attached later is in the publication too, and its changes arrive under the root's name.
 * Otherwise (PostgreSQL 12, or only some partitions selected) the partitions are listed one by one.
 * Column subsets and renames are applied on the target side, so every column is published.
 */
import type pg from 'pg';
import { PgferryError } from '../../core/errors.js';
import { checkRowFilter } from '../../core/filter.js';
import { qualify, quoteIdent, quoteLiteral } from '../../core/ident.js';
import { clearPathLocal, setStartPathLocal } from '../../pg/search-path.js';
import { CAPTURE_PUBLICATION_COMMENT } from './types.js';
import type { CopyTable } from '../data/plan/types.js';

export function publicationSql(name: string, tables: CopyTable[], sourceVersion: number): string {
  const filtered = tables.filter((t) => t.where);
  if (filtered.length && sourceVersion < 150000) {
    throw new PgferryError(
      'usage',
      `row filters (${filtered.map((t) => t.key).join(', ')}) need PostgreSQL 15 or newer on the source ` +
        'with incremental',
      {
        hint: 'leave the `where` filters out of the task, or migrate without --incremental',
      },
    );
  }
  const list = tables.map(
    (t) => `${qualify(t.source.schema, t.source.name)}${t.where ? ` WHERE (${checkRowFilter(t.where, t.key)})` : ''}`,
  );
  // A listed partition whose root is not listed is published as itself either way.
  const viaRoot = sourceVersion >= 130000 ? ' WITH (publish_via_partition_root = true)' : '';
  return `CREATE PUBLICATION ${quoteIdent(name)} FOR TABLE ${list.join(', ')}${viaRoot}`;
}

/** Create the publication unless it exists (a rerun of the task); true when created. */
export async function createPublication(
  c: pg.Client,
  name: string,
  tables: CopyTable[],
  sourceVersion: number,
): Promise<boolean> {
  const r = await c.query('SELECT 1 FROM pg_catalog.pg_publication WHERE pubname = $1', [name]);
  if (r.rowCount) return false;
  await c.query('BEGIN');
  try {
    // row filters are bound when the publication is made: on the session's starting search_path (pg/search-path.ts)
    const filtered = tables.some((t) => t.where);
    if (filtered) await setStartPathLocal(c);
    await c.query(publicationSql(name, tables, sourceVersion));
    if (filtered) await clearPathLocal(c);
    await c.query(`COMMENT ON PUBLICATION ${quoteIdent(name)} IS ${quoteLiteral(CAPTURE_PUBLICATION_COMMENT)}`);
    await c.query('COMMIT');
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  }
  return true;
}

/**
 * The tables of `tables` the publication does not hold, as `c`'s snapshot sees it (run in the
 * slot's snapshot: a table created between the publication and the slot is missing).
 */
export async function publicationMisses(c: pg.Client, name: string, tables: CopyTable[]): Promise<CopyTable[]> {
  const r = await c.query<{ schema: string; name: string }>(
    `SELECT n.nspname AS schema, c.relname AS name
       FROM pg_catalog.pg_publication_rel pr
       JOIN pg_catalog.pg_publication p ON p.oid = pr.prpubid
       JOIN pg_catalog.pg_class c ON c.oid = pr.prrelid
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE p.pubname = $1`,
    [name],
  );
  const held = new Set(r.rows.map((x) => `${x.schema}\u0000${x.name}`));
  return tables.filter((t) => !held.has(`${t.source.schema}\u0000${t.source.name}`));
}

interface RawIdentityRow {
  schema: string;
  name: string;
  ident: string;
}

/** Replica identity (pg_class.relreplident: d, f, i or n) of each table that exists, by its key (schema.table quoted). */
export async function replicaIdentities(
  c: pg.Client,
  tables: { schema: string; name: string }[],
): Promise<Map<string, string>> {
  const r = await c.query<RawIdentityRow>(
    `SELECT n.nspname AS schema, c.relname AS name, c.relreplident::text AS ident
       FROM unnest($1::text[], $2::text[]) AS t(schema, name)
       JOIN pg_catalog.pg_namespace n ON n.nspname = t.schema
       JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = t.name`,
    [tables.map((t) => t.schema), tables.map((t) => t.name)],
  );
  return new Map(r.rows.map((x) => [qualify(x.schema, x.name), x.ident]));
}

export async function dropPublication(c: pg.Client, name: string): Promise<void> {
  await c.query(`DROP PUBLICATION IF EXISTS ${quoteIdent(name)}`);
}

/**
 * The tables of `tables` without a primary key and without a replica identity: once published,
 * the source refuses their updates and deletes, so no publication is made for them (the
 * precheck's incremental.replica-identity explains the fix).
 */
export async function withoutReplicaIdentity(c: pg.Client, tables: CopyTable[]): Promise<string[]> {
  const r = await c.query<{ key: string }>(
    `SELECT n.nspname || '.' || c.relname AS key
       FROM unnest($1::text[], $2::text[]) AS t(schema, name)
       JOIN pg_catalog.pg_namespace n ON n.nspname = t.schema
       JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = t.name
      WHERE c.relreplident = 'n'
         OR (c.relreplident = 'd' AND NOT EXISTS
              (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indisprimary))`,
    [tables.map((t) => t.source.schema), tables.map((t) => t.source.name)],
  );
  return r.rows.map((x) => x.key);
}

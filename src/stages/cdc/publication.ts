/**
 * The task's publication on the source: exactly the selected tables (partitions as the copy
 * reads them), with each table's row filter (PostgreSQL 15+). Column subsets and renames are
 * applied on the target side, so every column is published.
 */
import type pg from 'pg';
import { PgferryError } from '../../core/errors.js';
import { qualify, quoteIdent, quoteLiteral } from '../../core/ident.js';
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
  const list = tables.map((t) => `${qualify(t.source.schema, t.source.name)}${t.where ? ` WHERE (${t.where})` : ''}`);
  return `CREATE PUBLICATION ${quoteIdent(name)} FOR TABLE ${list.join(', ')}`;
}

/** Create the publication unless it exists (a rerun of the task). */
export async function createPublication(
  c: pg.Client,
  name: string,
  tables: CopyTable[],
  sourceVersion: number,
): Promise<void> {
  const r = await c.query('SELECT 1 FROM pg_catalog.pg_publication WHERE pubname = $1', [name]);
  if (r.rowCount) return;
  await c.query('BEGIN');
  try {
    await c.query(publicationSql(name, tables, sourceVersion));
    await c.query(`COMMENT ON PUBLICATION ${quoteIdent(name)} IS ${quoteLiteral(CAPTURE_PUBLICATION_COMMENT)}`);
    await c.query('COMMIT');
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  }
}

export async function dropPublication(c: pg.Client, name: string): Promise<void> {
  await c.query(`DROP PUBLICATION IF EXISTS ${quoteIdent(name)}`);
}

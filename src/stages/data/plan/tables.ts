/**
 * The tables whose rows move: every selected ordinary table and partition leaf (a partitioned
 * parent holds no rows; its leaves are copied one by one), with target names and the columns
 * to copy after column subsets and renames. Generated columns are left to the target.
 */
import type pg from 'pg';
import { PgferryError } from '../../../core/errors.js';
import type { Selection } from '../../../core/selection.js';
import { tableKey } from '../../../core/selection.js';
import type { CopyTable } from './types.js';
import { notExt, PARTITION_ROOT_JOIN, USER_NS } from '../../schema/catalog/sql/common.js';

// Version-independent: attgenerated (12+) and relispartition (10+) are read through to_jsonb
// so the same text runs on 10..17.
const TABLES_SQL = `
SELECT n.nspname AS schema, c.relname AS name, c.oid::int8::text AS oid,
       (to_jsonb(c) ->> 'relispartition')::bool AS is_partition,
       root.nspname AS root_schema, root.relname AS root_name,
       EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND (i.indisprimary OR (i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
               AND NOT EXISTS (SELECT 1 FROM pg_attribute a2 WHERE a2.attrelid = c.oid AND a2.attnum = ANY (i.indkey) AND NOT a2.attnotnull)))) AS has_key,
       (SELECT coalesce(json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod)) ORDER BY a.attnum), '[]')
          FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
           AND coalesce(to_jsonb(a) ->> 'attgenerated', '') = '') AS columns
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
${PARTITION_ROOT_JOIN}
WHERE c.relkind = 'r'
  AND ${USER_NS}
  AND ${notExt('pg_class', 'c.oid')}
ORDER BY 1, 2`;

interface Row {
  schema: string;
  name: string;
  oid: string;
  is_partition: boolean | null;
  root_schema: string | null;
  root_name: string | null;
  has_key: boolean;
  columns: { name: string; type: string }[];
}

export async function listCopyTables(source: pg.Client, sel: Selection): Promise<CopyTable[]> {
  const r = await source.query<Row>(TABLES_SQL);
  const out: CopyTable[] = [];
  for (const row of r.rows) {
    // A partition is selected with its root table (selecting the parent selects its leaves).
    const selected =
      sel.tableSelected(row.schema, row.name) ||
      (row.is_partition === true &&
        row.root_schema !== null &&
        sel.tableSelected(row.root_schema, row.root_name!) &&
        sel.schemaSelected(row.schema));
    if (!selected) continue;
    if (row.is_partition === true && row.root_schema !== null) {
      sel.bindPartition(row.schema, row.name, row.root_schema, row.root_name!);
    }
    const subset = sel.columnSubset(row.schema, row.name);
    if (subset) {
      const missing = subset.filter((c) => !row.columns.some((col) => col.name === c));
      if (missing.length) {
        throw new PgferryError(
          'usage',
          `table ${tableKey(row.schema, row.name)}: column subset names unknown column(s) ${missing.join(', ')}`,
          {
            hint: 'list columns as they are named on the source (case-sensitive)',
          },
        );
      }
    }
    const cols = row.columns.filter((c) => !subset || subset.includes(c.name));
    out.push({
      key: tableKey(row.schema, row.name),
      source: { schema: row.schema, name: row.name },
      target: sel.targetTable(row.schema, row.name),
      columns: cols.map((c) => ({
        source: c.name,
        target: sel.targetColumn(row.schema, row.name, c.name),
        type: c.type,
      })),
      where: sel.rowFilter(row.schema, row.name),
      hasPrimaryKey: row.has_key,
    });
  }
  return out;
}

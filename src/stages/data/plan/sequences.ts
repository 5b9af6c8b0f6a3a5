/**
 * Sequences whose values move (setval on the target from the values read in the snapshot):
 * every sequence in a selected schema that an extension does not own, including those
 * behind serial and identity columns (with includeTables, those the selected tables need).
 */
import type pg from 'pg';
import type { Selection } from '../../../core/selection.js';
import type { QualifiedName } from './types.js';
import { notExt } from '../../schema/catalog/sql/common.js';

const SEQUENCES_SQL = `
SELECT n.nspname AS schema, c.relname AS name,
       owner_ns.nspname AS table_schema, owner_t.relname AS table_name
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid
     AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
LEFT JOIN pg_class owner_t ON owner_t.oid = d.refobjid
LEFT JOIN pg_namespace owner_ns ON owner_ns.oid = owner_t.relnamespace
WHERE c.relkind = 'S'
  AND ${notExt('pg_class', 'c.oid')}
ORDER BY 1, 2`;

export async function listSequences(
  source: pg.Client,
  sel: Selection,
): Promise<{ source: QualifiedName; target: QualifiedName }[]> {
  const r = await source.query<{
    schema: string;
    name: string;
    table_schema: string | null;
    table_name: string | null;
  }>(SEQUENCES_SQL);
  return (
    r.rows
      .filter((s) => sel.sequenceSelected(s.schema, s.name))
      // a sequence owned by a table that is not selected stays behind with its table
      .filter((s) => s.table_schema === null || sel.tableSelected(s.table_schema, s.table_name!))
      .map((s) => ({
        source: { schema: s.schema, name: s.name },
        target: { schema: sel.targetSchema(s.schema), name: s.name },
      }))
  );
}

/**
 * incremental.replica-identity: updates and deletes are found on the target by the source's
 * replica identity. A table without a primary key and without REPLICA IDENTITY FULL (or USING
 * INDEX) would make the source itself refuse them once the table is published.
 */
import { quoteIdent } from '../../core/ident.js';
import { incrementalCheck } from './incremental-skip.js';
import { failed, passed } from './types.js';

export const incrementalReplicaIdentity = incrementalCheck({
  id: 'incremental.replica-identity',
  title: 'Replica identity of the selected tables',
  level: 'error',
  needs: ['source', 'model'],
  async run(ctx) {
    const tables = ctx.model!.tables.filter((t) => t.kind === 'r');
    const r = await ctx.source!.query<{ oid: string; ident: string; pk: boolean }>(
      `SELECT c.oid::int8::text AS oid, c.relreplident::text AS ident,
              EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indisprimary) AS pk
         FROM pg_catalog.pg_class c WHERE c.oid = ANY ($1::oid[])`,
      [tables.map((t) => t.oid)],
    );
    const byOid = new Map(r.rows.map((row) => [row.oid, row]));
    const bad = tables.filter((t) => {
      const row = byOid.get(t.oid);
      return row && (row.ident === 'n' || (row.ident === 'd' && !row.pk));
    });
    if (!bad.length) return passed('every selected table has a primary key or a replica identity');
    const fix = bad.map((t) => `ALTER TABLE ${quoteIdent(t.schema)}.${quoteIdent(t.name)} REPLICA IDENTITY FULL;`);
    return failed(
      `${bad.length} selected table(s) have no primary key and no replica identity: ` +
        'their updates and deletes cannot be replicated',
      bad.map((t) => t.key),
      `on the source (or add a primary key): ${fix.join(' ')}`,
    );
  },
});

/**
 * incremental.row-filters: a publication's row filters exist from PostgreSQL 15 on the source, and
 * a filter naming a column outside the replica identity makes the source refuse UPDATE and DELETE
 * on that table once it is published — so a filtered table needs REPLICA IDENTITY FULL (or a filter
 * over its key columns only: acknowledge with --skip incremental.row-filters).
 */
import { quoteIdent } from '../../core/ident.js';
import { incrementalCheck } from './incremental-skip.js';
import { failed, passed } from './types.js';

export const incrementalRowFilters = incrementalCheck({
  id: 'incremental.row-filters',
  title: 'Row filters with change capture',
  level: 'error',
  skippable: true,
  needs: ['source', 'model'],
  async run(ctx) {
    const filtered = ctx.model!.tables.filter((t) => t.kind === 'r' && ctx.sel.rowFilter(t.schema, t.name));
    if (!filtered.length) return passed('no row filters');
    const keys = filtered.map((t) => t.key);
    if (ctx.sourceVersion < 150000) {
      return failed(
        `row filters need PostgreSQL 15 or newer on the source with incremental ` +
          `(the source is ${Math.floor(ctx.sourceVersion / 10000)})`,
        keys,
        'leave the `where` filters out of the task, or migrate these tables without --incremental',
      );
    }
    const r = await ctx.source!.query<{ oid: string }>(
      `SELECT c.oid::int8::text AS oid FROM pg_catalog.pg_class c
        WHERE c.oid = ANY ($1::oid[]) AND c.relreplident <> 'f'`,
      [filtered.map((t) => t.oid)],
    );
    const notFull = new Set(r.rows.map((x) => x.oid));
    const risky = filtered.filter((t) => notFull.has(t.oid));
    if (!risky.length) return passed(`${keys.length} row filter(s) go into the publication`, keys);
    const fix = risky.map((t) => `ALTER TABLE ${quoteIdent(t.schema)}.${quoteIdent(t.name)} REPLICA IDENTITY FULL;`);
    return failed(
      'a row filter on a table without REPLICA IDENTITY FULL: the source refuses UPDATE and DELETE on it once ' +
        'published if the filter names a column outside the replica identity',
      risky.map((t) => t.key),
      `on the source: ${fix.join(' ')} (or, when each filter names only key columns, --skip incremental.row-filters)`,
    );
  },
});

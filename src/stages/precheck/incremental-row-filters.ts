/** incremental.row-filters: a publication's row filters exist from PostgreSQL 15 on the source. */
import { notIncremental } from './incremental-skip.js';
import { failed, passed, type CheckDef } from './types.js';

export const incrementalRowFilters: CheckDef = {
  id: 'incremental.row-filters',
  title: 'Row filters with change capture',
  level: 'error',
  needs: ['source'],
  async run(ctx) {
    const skip = notIncremental(ctx);
    if (skip) return skip;
    const filtered = Object.entries(ctx.task.tables ?? {})
      .filter(([, o]) => o.where)
      .map(([k]) => k);
    if (!filtered.length) return passed('no row filters');
    if (ctx.sourceVersion >= 150000)
      return passed(`${filtered.length} row filter(s) go into the publication`, filtered);
    return failed(
      `row filters need PostgreSQL 15 or newer on the source with incremental ` +
        `(the source is ${Math.floor(ctx.sourceVersion / 10000)})`,
      filtered,
      'leave the `where` filters out of the task, or migrate these tables without --incremental',
    );
  },
};

/**
 * filters.where: each row filter passes checkRowFilter (task/filter.ts), then is parsed and planned on the source with
 * EXPLAIN SELECT 1 FROM t WHERE (...) in a READ ONLY transaction that is rolled back
 * (extended protocol: one statement only; nothing executes), with the search_path the source session
 * started with, as the copy evaluates it.
 */
import { errorMessage, isPgError } from '../../core/errors.js';
import { qualify } from '../../core/ident.js';
import { checkRowFilter } from '../../core/filter.js';
import { startPath } from '../../pg/search-path.js';
import { failed, passed, plural, type CheckDef } from './types.js';

export const filtersWhere: CheckDef = {
  id: 'filters.where',
  title: 'Row filters',
  level: 'error',
  needs: ['source', 'model'],
  async run(ctx) {
    const c = ctx.source!;
    const [begin, end] = ctx.inTransaction
      ? ['SAVEPOINT row_filter', 'ROLLBACK TO SAVEPOINT row_filter']
      : ['BEGIN TRANSACTION READ ONLY', 'ROLLBACK'];
    const bad: string[] = [];
    let n = 0;
    for (const t of ctx.model!.tables) {
      const where = ctx.sel.rowFilter(t.schema, t.name);
      if (!where) continue;
      n++;
      try {
        checkRowFilter(where, t.key);
      } catch (e) {
        bad.push(errorMessage(e));
        continue;
      }
      await c.query(begin);
      try {
        // the filter resolves names on the session's starting search_path (pg/search-path.ts), undone with the rest
        await c.query(
          `SELECT pg_catalog.set_config('statement_timeout', '30s', true), pg_catalog.set_config('search_path', coalesce($1, pg_catalog.current_setting('search_path')), true)`,
          [startPath(c) ?? null],
        );
        await c.query({
          text: `EXPLAIN SELECT 1 FROM ${qualify(t.schema, t.name)} WHERE (${where})`,
          queryMode: 'extended',
        } as any);
      } catch (e) {
        const pg = isPgError(e) ? e : undefined;
        bad.push(
          `${t.key}: WHERE ${where} — ${errorMessage(e)}${pg?.code ? ` (SQLSTATE ${pg.code})` : ''}${pg?.hint ? `; HINT: ${pg.hint}` : ''}`,
        );
      } finally {
        await c.query(end).catch(() => {});
      }
    }
    if (!bad.length)
      return passed(
        n
          ? `${plural(n, 'row filter')} ${n === 1 ? 'parses and plans' : 'parse and plan'} on the source`
          : 'no row filters',
      );
    return failed(
      `${plural(bad.length, 'row filter')} rejected by the source`,
      bad,
      "fix tables.<schema.table>.where: an SQL boolean expression over that table's columns, e.g. created_at >= '2024-01-01'",
    );
  },
};

/**
 * columns.subset: column subsets that name unknown columns, or leave out a primary key column
 * or a NOT NULL column without default (the target table, its keys and later loads would break).
 */
import { quoteIdent } from '../../core/ident.js';
import { failed, passed, plural, type CheckDef } from './types.js';

export const columnsSubset: CheckDef = {
  id: 'columns.subset',
  title: 'Column subsets and renames',
  level: 'error',
  needs: ['model'],
  async run(ctx) {
    const problems: string[] = [];
    let subsets = 0;
    for (const t of ctx.model!.tables) {
      const subset = ctx.sel.columnSubset(t.schema, t.name);
      const names = new Set(t.columns.map((c) => c.name));
      for (const from of Object.keys(ctx.sel.options(t.schema, t.name)?.columnMap ?? {})) {
        if (!names.has(from)) problems.push(`${t.key}: columnMap names unknown column ${quoteIdent(from)}`);
      }
      if (!subset) continue;
      subsets++;
      for (const c of subset)
        if (!names.has(c)) problems.push(`${t.key}: column subset names unknown column ${quoteIdent(c)}`);
      for (const c of t.columns) {
        if (subset.includes(c.name) || c.generated) continue;
        if (t.pkColumns.includes(c.name)) problems.push(`${t.key}.${quoteIdent(c.name)}: primary key column left out`);
        else if (c.notNull && !c.hasDefault && !c.identity)
          problems.push(`${t.key}.${quoteIdent(c.name)}: NOT NULL column without default left out`);
      }
    }
    if (!problems.length)
      return passed(
        subsets
          ? `${plural(subsets, 'column subset')} ${subsets === 1 ? 'keeps' : 'keep'} every key and NOT NULL column`
          : 'no column subsets',
      );
    return failed(
      `${plural(problems.length, 'column subset problem')}`,
      problems,
      'add these columns to tables.<schema.table>.columns (names as on the source, case-sensitive), or drop the subset',
    );
  },
};

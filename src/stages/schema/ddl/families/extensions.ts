/** Extensions: CREATE EXTENSION IF NOT EXISTS in the (mapped) schema; their members come with them. */
import { quoteIdent } from '../../../../core/ident.js';
import type { DdlContext } from '../context.js';

export function extensions(ctx: DdlContext): void {
  const { m, sel } = ctx;
  for (const e of m.extensions) {
    if (!sel.schemaSelected(e.schema) && e.schema !== 'public') {
      ctx.notMigrated.push({ kind: 'extension', name: e.name, reason: `its schema ${e.schema} is not selected` });
      continue;
    }
    ctx.add(
      e.id,
      'extension',
      `extension ${quoteIdent(e.name)}`,
      e.name,
      `CREATE EXTENSION IF NOT EXISTS ${quoteIdent(e.name)} WITH SCHEMA ${quoteIdent(sel.targetSchema(e.schema))};` +
        ctx.comment(`EXTENSION ${quoteIdent(e.name)}`, e.comment),
    );
  }
}

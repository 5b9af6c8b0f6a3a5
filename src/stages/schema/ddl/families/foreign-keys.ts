/**
 * Foreign keys (late: after the data of both tables, see Statement.after). One referencing a table that is not selected is kept with a
 * warning, or reported as not migrated with dropOrphanForeignKeys.
 */
import { qualify, quoteIdent } from '../../../../core/ident.js';
import { tableKey } from '../../../../core/selection.js';
import type { ForeignKeyObj, TableObj } from '../../catalog/model.js';
import type { DdlContext } from '../context.js';
import { rewriteNames } from '../rewrite.js';

export function foreignKeys(ctx: DdlContext, keptIds: Set<string>): void {
  for (const fk of ctx.m.foreignKeys) {
    const t = ctx.selTables.get(fk.tableId);
    if (!t || !keptIds.has(t.id)) continue;
    const n = ctx.tq(t);
    const ref = ctx.tablesById.get(fk.refTableId);
    if (!(ref !== undefined && ctx.selTables.has(ref.id) && keptIds.has(ref.id)) && orphan(ctx, fk, n, ref)) continue;
    const subset = ctx.sel.columnSubset(t.schema, t.name);
    if (subset && fk.columns.some((a) => !subset.includes(t.columns.find((c) => c.num === a)?.name ?? ''))) {
      ctx.notMigrated.push({
        kind: 'foreign key',
        name: `${quoteIdent(fk.name)} ON ${n}`,
        reason: 'uses a column left out by the column subset',
      });
      continue;
    }
    const own = tableKey(t.schema, t.name);
    const refKey = ref !== undefined && ctx.selTables.has(ref.id) ? tableKey(ref.schema, ref.name) : undefined;
    const def = definition(ctx, fk, t, n, ref);
    const comment = ctx.comment(`CONSTRAINT ${quoteIdent(fk.name)} ON ${n}`, fk.comment);
    // NOT VALID is refused on a partitioned table's foreign key (before PostgreSQL 18)
    const split = refKey !== undefined && refKey !== own && fk.validated && t.relkind !== 'p';
    ctx.late.push({
      key: `foreign key ${own}.${quoteIdent(fk.name)}`,
      kind: 'foreign key',
      name: `${quoteIdent(fk.name)} ON ${n}`,
      section: 'late',
      sql: `ALTER TABLE ${n} ADD CONSTRAINT ${quoteIdent(fk.name)} ${def};` + comment,
      drop: `ALTER TABLE IF EXISTS ${n} DROP CONSTRAINT IF EXISTS ${quoteIdent(fk.name)};`,
      // both tables copied: the data stage may add it once both are complete
      ...(refKey !== undefined ? { after: [...new Set([own, refKey])] } : {}),
      ...(split
        ? {
            validation: {
              notValid: `ALTER TABLE ${n} ADD CONSTRAINT ${quoteIdent(fk.name)} ${def} NOT VALID;` + comment,
              validate: `ALTER TABLE ${n} VALIDATE CONSTRAINT ${quoteIdent(fk.name)};`,
            },
          }
        : {}),
    });
  }
}

/** A key referencing a table not selected: true when it is left out (dropOrphanForeignKeys). */
function orphan(ctx: DdlContext, fk: ForeignKeyObj, n: string, ref: TableObj | undefined): boolean {
  const refName = ref ? qualify(ref.schema, ref.name) : 'a table';
  if (ctx.task.dropOrphanForeignKeys) {
    ctx.notMigrated.push({
      kind: 'foreign key',
      name: `${quoteIdent(fk.name)} ON ${n}`,
      reason: `references ${refName} that is not selected`,
    });
    return true;
  }
  ctx.warnings.push(
    `foreign key ${fk.name} on ${n} references ${refName} that is not selected; it will fail unless that table exists on the target (or use dropOrphanForeignKeys)`,
  );
  return false;
}

function definition(ctx: DdlContext, fk: ForeignKeyObj, t: TableObj, n: string, ref: TableObj | undefined): string {
  const def = ctx.rw(fk.def, `foreign key ${fk.name} on ${n}`, ctx.colMaps.get(t.id));
  if (!ref || !ctx.colMaps.has(ref.id)) return def;
  // REFERENCES s.t(cols): rename the referenced columns too.
  const i = def.indexOf(' REFERENCES ');
  if (i < 0) return def;
  const none = { schemas: new Map<string, string>(), tables: new Map<string, string>() };
  return def.slice(0, i) + rewriteNames(def.slice(i), none, ctx.colMaps.get(ref.id)).sql;
}

/**
 * mapping.names: two source tables mapped to one target name, target names longer than
 * PostgreSQL's 63 bytes, column renames that collide, options for tables/schemas that do not exist.
 */
import { parseQualifiedName, qualify, quoteIdent } from '../../core/ident.js';
import { tableKey } from '../../core/selection.js';
import { failed, passed, plural, warning, type CheckDef } from './types.js';

const NAMEDATALEN = 63;

export const mappingNames: CheckDef = {
  id: 'mapping.names',
  title: 'Name mapping',
  level: 'error',
  needs: ['source', 'model'],
  async run(ctx) {
    const m = ctx.model!;
    const sel = ctx.sel;
    const errors: string[] = [];
    const byTarget = new Map<string, string[]>();
    for (const t of m.tables) {
      const tq = qualify(t.target.schema, t.target.name);
      byTarget.set(tq, [...(byTarget.get(tq) ?? []), t.key]);
      for (const part of [t.target.schema, t.target.name]) {
        if (Buffer.byteLength(part, 'utf8') > NAMEDATALEN)
          errors.push(
            `${t.key} → ${tq}: name ${quoteIdent(part)} is ${Buffer.byteLength(part, 'utf8')} bytes (max ${NAMEDATALEN})`,
          );
      }
      const cols = new Map<string, string[]>();
      for (const c of t.columns) {
        const to = sel.targetColumn(t.schema, t.name, c.name);
        cols.set(to, [...(cols.get(to) ?? []), c.name]);
        if (Buffer.byteLength(to, 'utf8') > NAMEDATALEN)
          errors.push(
            `${t.key}.${quoteIdent(c.name)} → ${quoteIdent(to)}: ${Buffer.byteLength(to, 'utf8')} bytes (max ${NAMEDATALEN})`,
          );
      }
      for (const [to, from] of cols)
        if (from.length > 1)
          errors.push(`${t.key}: columns ${from.map(quoteIdent).join(', ')} all map to ${quoteIdent(to)}`);
    }
    for (const [tq, from] of byTarget) if (from.length > 1) errors.push(`${from.join(', ')} all map to ${tq}`);
    for (const s of m.schemas) {
      const to = sel.targetSchema(s.name);
      if (Buffer.byteLength(to, 'utf8') > NAMEDATALEN)
        errors.push(
          `schema ${quoteIdent(s.name)} → ${quoteIdent(to)}: ${Buffer.byteLength(to, 'utf8')} bytes (max ${NAMEDATALEN})`,
        );
    }
    // schemas mapped onto the same target schema are fine (merge); but a target schema that is also
    // a different selected source schema's unmapped name merges two schemas — warn about it.
    const warnings: string[] = [];
    const srcSchemas = new Set(m.allSchemas);
    for (const from of Object.keys(ctx.task.mapSchemas))
      if (!srcSchemas.has(from)) warnings.push(`mapSchemas: source schema ${quoteIdent(from)} does not exist`);
    const merged = new Map<string, string[]>();
    for (const s of m.schemas)
      merged.set(sel.targetSchema(s.name), [...(merged.get(sel.targetSchema(s.name)) ?? []), s.name]);
    for (const [to, from] of merged)
      if (from.length > 1)
        warnings.push(`schemas ${from.map(quoteIdent).join(', ')} merge into ${quoteIdent(to)} on the target`);
    const selectedKeys = new Set(m.tables.map((t) => t.key));
    for (const key of sel.optionKeys()) {
      if (selectedKeys.has(key)) continue;
      const [s, n] = parseQualifiedName(key);
      const exists = await ctx.source!.query(
        `SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
        [s, n],
      );
      warnings.push(
        `tables.${tableKey(s, n)}: options given for a table that ${exists.rowCount ? 'is not selected' : 'does not exist on the source'}`,
      );
    }
    if (errors.length) {
      return failed(
        `${plural(errors.length, 'name mapping problem')}`,
        [...errors, ...warnings],
        'give distinct target names with tables.<schema.table>.rename / columnMap / mapSchemas, at most 63 bytes each',
      );
    }
    if (warnings.length)
      return warning(
        `${plural(warnings.length, 'mapping note')}`,
        warnings,
        "check the task's mapSchemas and tables keys (schema.table, SQL quoting for odd names)",
      );
    return passed(`${plural(m.tables.length, 'table')} map to distinct valid target names`);
  },
};

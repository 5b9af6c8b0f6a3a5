/**
 * Text search dictionaries and configurations. Their templates and parsers are C code: a dictionary
 * or configuration built on one that is not migrated is reported instead.
 */
import { qualify, quoteIdent } from '../../../../core/ident.js';
import type { DdlContext } from '../context.js';

export function tsDictionaries(ctx: DdlContext): void {
  for (const d of ctx.m.tsDicts) {
    if (!ctx.sel.schemaSelected(d.schema)) continue;
    const n = ctx.q(d.schema, d.name);
    ctx.names.set(d.id, n);
    if (!d.templateMigratable) {
      ctx.skip(
        d.id,
        'text search dictionary',
        n,
        `its template ${qualify(d.template[0], d.template[1])} is not migrated (text search templates are C code)`,
      );
      continue;
    }
    ctx.add(
      d.id,
      'text search dictionary',
      `text search dictionary ${qualify(d.schema, d.name)}`,
      n,
      `CREATE TEXT SEARCH DICTIONARY ${n} (\n    TEMPLATE = ${ctx.q(d.template[0], d.template[1])}${d.options ? `, ${d.options}` : ''}\n);` +
        ctx.owner('TEXT SEARCH DICTIONARY', n, d.owner) +
        ctx.comment(`TEXT SEARCH DICTIONARY ${n}`, d.comment),
      `DROP TEXT SEARCH DICTIONARY IF EXISTS ${n} CASCADE;`,
    );
  }
}

export function tsConfigurations(ctx: DdlContext): void {
  for (const c of ctx.m.tsConfigs) {
    if (!ctx.sel.schemaSelected(c.schema)) continue;
    const n = ctx.q(c.schema, c.name);
    ctx.names.set(c.id, n);
    if (!c.parserMigratable) {
      ctx.skip(
        c.id,
        'text search configuration',
        n,
        `its parser ${qualify(c.parser[0], c.parser[1])} is not migrated (text search parsers are C code)`,
      );
      continue;
    }
    let sql = `CREATE TEXT SEARCH CONFIGURATION ${n} (\n    PARSER = ${ctx.q(c.parser[0], c.parser[1])}\n);`;
    for (const mp of c.maps)
      sql += `\nALTER TEXT SEARCH CONFIGURATION ${n} ADD MAPPING FOR ${quoteIdent(mp.token)} WITH ${mp.dicts.map((x) => ctx.q(x[0], x[1])).join(', ')};`;
    ctx.add(
      c.id,
      'text search configuration',
      `text search configuration ${qualify(c.schema, c.name)}`,
      n,
      sql +
        ctx.owner('TEXT SEARCH CONFIGURATION', n, c.owner) +
        ctx.comment(`TEXT SEARCH CONFIGURATION ${n}`, c.comment),
      `DROP TEXT SEARCH CONFIGURATION IF EXISTS ${n} CASCADE;`,
    );
  }
}

/**
 * Functions, procedures and aggregates (./aggregates.ts), with warnings for bodies that name tables
 * not selected or renamed (bodies are not rewritten).
 */
import { qualify } from '../../../../core/ident.js';
import type { FunctionObj } from '../../catalog/model.js';
import type { DdlContext } from '../context.js';
import { bodyOf, escapeRe } from '../util.js';
import { aggregateSql } from './aggregates.js';

interface Unselected {
  name: string;
  re: RegExp;
}

export function functions(ctx: DdlContext): void {
  const unselected = ctx.m.tables
    .filter((t) => !ctx.selTables.has(t.id))
    .map((t) => {
      const name = qualify(t.schema, t.name);
      return { name, re: new RegExp(`(^|[^\\w."])${escapeRe(name)}($|[^\\w"])`) };
    });
  for (const f of ctx.m.functions) {
    if (!ctx.sel.schemaSelected(f.schema)) continue;
    const kind = f.kind === 'p' ? 'procedure' : f.kind === 'a' ? 'aggregate' : 'function';
    const kw = kind.toUpperCase();
    const sig = `${ctx.q(f.schema, f.name)}(${ctx.rw(f.identityArgs, `${kind} ${f.name}`)})`;
    const what = `${kind} ${sig}`;
    let sql: string;
    if (f.kind === 'a') sql = aggregateSql(f, ctx.q(f.schema, f.name), (s) => ctx.rw(s, what));
    else sql = ctx.rw(f.def!.trimEnd(), what) + ';';
    if (f.def) bodyWarnings(ctx, f.def, what, unselected);
    sql +=
      ctx.owner(kw, sig, f.owner) +
      ctx.comment(`${kw} ${sig}`, f.comment) +
      ctx.grants(kind === 'aggregate' ? 'FUNCTION' : kw, sig, f.acl, f.owner);
    ctx.add(
      f.id,
      kind,
      `${kind} ${qualify(f.schema, f.name)}(${f.identityArgs})`,
      sig,
      sql,
      `DROP ${kw} IF EXISTS ${sig} CASCADE;`,
    );
  }
}

function bodyWarnings(ctx: DdlContext, def: NonNullable<FunctionObj['def']>, what: string, unselected: Unselected[]) {
  const body = bodyOf(def);
  const hit =
    [...ctx.map.schemas.keys()].find((s) => body.includes(s)) ??
    [...ctx.map.tables.keys()].map((k) => k.split('\u0000')[1]).find((t) => body.includes(t));
  const missing = unselected.find((u) => body.includes(u.name) && u.re.test(body));
  if (missing) ctx.warnings.push(`${what}: its body refers to ${missing.name}, which is not selected`);
  if (hit !== undefined)
    ctx.warnings.push(
      `${what}: its body mentions ${JSON.stringify(hit)}, which is renamed on the target; function bodies are not rewritten, check it`,
    );
}

/**
 * CREATE TYPE for a base type (see catalog/basetypes.ts for the steps and their order):
 * the shell statement and the full definition, with every property stated explicitly.
 */
import type { BaseTypeInfo } from '../catalog/model.js';
import { quoteLiteral } from '../../../core/ident.js';

const ALIGN: Record<string, string> = { c: 'char', s: 'int2', i: 'int4', d: 'double' };
const STORAGE: Record<string, string> = { p: 'plain', e: 'external', m: 'main', x: 'extended' };

/** `rw` rewrites mapped schema names in a qualified function or type name. */
export function baseTypeSql(name: string, b: BaseTypeInfo, rw: (s: string) => string): string {
  const f = b.funcs;
  const p = [`INTERNALLENGTH = ${b.length === -1 ? 'variable' : b.length === -2 ? '-2' : String(b.length)}`];
  const fn = (kw: string, x: { name: string | null }) => {
    if (x.name) p.push(`${kw} = ${rw(x.name)}`);
  };
  fn('INPUT', f.input);
  fn('OUTPUT', f.output);
  fn('RECEIVE', f.receive);
  fn('SEND', f.send);
  fn('TYPMOD_IN', f.typmodIn);
  fn('TYPMOD_OUT', f.typmodOut);
  fn('ANALYZE', f.analyze);
  // ELEMENT without SUBSCRIPT gets the raw array handler by itself (14+).
  const rawArray = b.element && f.subscript.name === 'pg_catalog.raw_array_subscript_handler';
  if (!rawArray) fn('SUBSCRIPT', f.subscript);
  if (b.byValue) p.push('PASSEDBYVALUE');
  p.push(`ALIGNMENT = ${ALIGN[b.align] ?? 'int4'}`, `STORAGE = ${STORAGE[b.storage] ?? 'plain'}`);
  if (b.category !== 'U') p.push(`CATEGORY = ${quoteLiteral(b.category)}`);
  if (b.preferred) p.push('PREFERRED = true');
  if (b.default != null) p.push(`DEFAULT = ${quoteLiteral(b.default)}`);
  if (b.element) p.push(`ELEMENT = ${rw(b.element)}`);
  if (b.delimiter !== ',') p.push(`DELIMITER = ${quoteLiteral(b.delimiter)}`);
  if (b.collatable) p.push('COLLATABLE = true');
  return `CREATE TYPE ${name} (\n    ${p.join(',\n    ')}\n);`;
}

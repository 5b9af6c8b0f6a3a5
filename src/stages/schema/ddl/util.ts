/** Small text helpers of the DDL generators. */
import { quoteLiteral } from '../../../core/ident.js';
import { rewriteNames } from './rewrite.js';

/** "fillfactor=70" → fillfactor='70' */
export function relOption(o: string): string {
  const i = o.indexOf('=');
  if (i < 0) return o;
  return `${o.slice(0, i)}=${quoteLiteral(o.slice(i + 1))}`;
}

/** Does SQL text refer to one of these column names (as an identifier, outside literals)? */
export function usesColumn(texts: (string | null)[], cols: string[]): boolean {
  if (!cols.length) return false;
  const probe = new Map(cols.map((c) => [c, '\u0001probe']));
  const none = { schemas: new Map<string, string>(), tables: new Map<string, string>() };
  return texts.some((t) => t != null && rewriteNames(t, none, probe).sql.includes('\u0001probe'));
}

export function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The dollar-quoted body of a function definition, if any. */
export function bodyOf(def: string): string {
  const m = /\$([A-Za-z_]*)\$[\s\S]*\$\1\$/.exec(def);
  return m ? m[0] : '';
}

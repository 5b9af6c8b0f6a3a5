/**
 * Name rewriting inside SQL text deparsed by the server (taken with search_path = '', so every
 * object name is schema-qualified). A small lexer walks the text, leaves string literals,
 * dollar-quoted bodies and comments alone, and rewrites qualified names:
 *   oldschema.x            → newschema.x
 *   oldschema.oldtable     → newschema.newtable
 *   bare column names      → renamed columns (only for expressions local to one table).
 * It reports when a mapped name appears where it cannot rewrite safely (inside a body or
 * literal), so the caller can warn.
 */
import { parseQualifiedName, qualify, quoteIdent, quoteLiteral } from '../../../core/ident.js';

function rewriteRegclass(text: string, map: NameMap): string | null {
  let parts: string[];
  try {
    parts = parseQualifiedName(text);
  } catch {
    return null;
  }
  if (parts.length !== 2) return null;
  const [s, n] = parts;
  const ns = map.schemas.get(s) ?? s;
  const nn = map.tables.get(`${s}\u0000${n}`) ?? n;
  return qualify(ns, nn);
}

export interface NameMap {
  schemas: Map<string, string>;
  /** "schema\u0000table" → new table name */
  tables: Map<string, string>;
}

export interface RewriteResult {
  sql: string;
  /** A mapped name shows up inside a literal/body where it was not rewritten. */
  unsafe: boolean;
}

interface Tok {
  kind: 'ident' | 'qident' | 'dot' | 'str' | 'other' | 'ws';
  text: string;
  value?: string;
}

function lex(sql: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const ch = sql[i];
    const start = i;
    if (/\s/.test(ch)) {
      while (i < n && /\s/.test(sql[i])) i++;
      out.push({ kind: 'ws', text: sql.slice(start, i) });
    } else if (ch === '-' && sql[i + 1] === '-') {
      while (i < n && sql[i] !== '\n') i++;
      out.push({ kind: 'ws', text: sql.slice(start, i) });
    } else if (ch === '/' && sql[i + 1] === '*') {
      let depth = 0;
      do {
        if (sql[i] === '/' && sql[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          depth--;
          i += 2;
        } else i++;
      } while (i < n && depth > 0);
      out.push({ kind: 'ws', text: sql.slice(start, i) });
    } else if (ch === "'" || ((ch === 'E' || ch === 'e') && sql[i + 1] === "'")) {
      const esc = ch !== "'";
      i += esc ? 2 : 1;
      while (i < n) {
        if (esc && sql[i] === '\\') {
          i += 2;
          continue;
        }
        if (sql[i] === "'") {
          if (sql[i + 1] === "'") {
            i += 2;
            continue;
          }
          i++;
          break;
        }
        i++;
      }
      out.push({ kind: 'str', text: sql.slice(start, i) });
    } else if (ch === '$' && /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.test(sql.slice(i, i + 64))) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 64))![0];
      const end = sql.indexOf(tag, i + tag.length);
      i = end < 0 ? n : end + tag.length;
      out.push({ kind: 'str', text: sql.slice(start, i) });
    } else if (ch === '"') {
      i++;
      let v = '';
      while (i < n) {
        if (sql[i] === '"') {
          if (sql[i + 1] === '"') {
            v += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        v += sql[i++];
      }
      out.push({ kind: 'qident', text: sql.slice(start, i), value: v });
    } else if (/[A-Za-z_\u0080-\uffff]/.test(ch)) {
      while (i < n && /[A-Za-z0-9_$\u0080-\uffff]/.test(sql[i])) i++;
      const t = sql.slice(start, i);
      out.push({ kind: 'ident', text: t, value: t.toLowerCase() });
    } else if (ch === '.') {
      i++;
      out.push({ kind: 'dot', text: '.' });
    } else if (/[0-9]/.test(ch)) {
      while (i < n && /[0-9.eE]/.test(sql[i])) i++;
      out.push({ kind: 'other', text: sql.slice(start, i) });
    } else {
      i++;
      out.push({ kind: 'other', text: ch });
    }
  }
  return out;
}

const isName = (t: Tok | undefined) => t !== undefined && (t.kind === 'ident' || t.kind === 'qident');

/**
 * Rewrite names in `sql`. `columns` (old → new) renames bare column references of one table
 * (used for index, constraint and default expressions of that table).
 */
export function rewriteNames(sql: string, map: NameMap, columns?: Map<string, string>): RewriteResult {
  if (map.schemas.size === 0 && map.tables.size === 0 && (!columns || columns.size === 0))
    return { sql, unsafe: false };
  const toks = lex(sql);
  let unsafe = false;
  const watch = [
    ...map.schemas.keys(),
    ...[...map.tables.keys()].map((k) => k.split('\u0000')[1]),
    ...(columns ? columns.keys() : []),
  ];
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    if (t.kind === 'str') {
      // 'schema.name'::regclass (nextval defaults and the like) names an object: rewrite it.
      if (
        toks[i + 1]?.text === ':' &&
        toks[i + 2]?.text === ':' &&
        toks[i + 3]?.value === 'regclass' &&
        /^'[^\\]*'$/.test(t.text)
      ) {
        const re = rewriteRegclass(t.text.slice(1, -1).replace(/''/g, "'"), map);
        if (re !== null) {
          t.text = quoteLiteral(re);
          continue;
        }
      }
      if (watch.some((w) => t.text.includes(w))) unsafe = true;
      continue;
    }
    if (!isName(t)) continue;
    // Only the start of a dotted chain.
    if (toks[i - 1]?.kind === 'dot') continue;
    const chain = [i];
    while (toks[chain[chain.length - 1] + 1]?.kind === 'dot' && isName(toks[chain[chain.length - 1] + 2]))
      chain.push(chain[chain.length - 1] + 2);
    const names = chain.map((k) => toks[k].value!);
    if (chain.length >= 2 && map.schemas.size + map.tables.size > 0) {
      const [s, tb] = names;
      const newTable = map.tables.get(`${s}\u0000${tb}`);
      const newSchema = map.schemas.get(s);
      if (newSchema !== undefined) toks[chain[0]].text = quoteIdent(newSchema);
      if (newTable !== undefined) toks[chain[1]].text = quoteIdent(newTable);
    } else if (chain.length === 1 && columns?.has(names[0])) {
      // a function call "name(" is not a column reference
      let j = i + 1;
      while (toks[j]?.kind === 'ws') j++;
      if (toks[j]?.text !== '(') toks[i].text = quoteIdent(columns.get(names[0])!);
    }
    i = chain[chain.length - 1];
  }
  return { sql: toks.map((t) => t.text).join(''), unsafe };
}

/**
 * Lexical scan of a row filter, following PostgreSQL's lexer (scan.l) for the tokens that can
 * hide or end SQL: quoted strings ('…', E'…', B'…', X'…', U&'…', $tag$…$tag$), quoted
 * identifiers, comments, ";" and parentheses. It proves that the filter text, put between
 * "(" and ")" in any statement, stays one parenthesised expression: no comment can swallow the
 * closing parenthesis, no ")" closes more than the filter opened, no ";" starts another
 * statement. Returns the reason the text is refused, or undefined.
 */

const IDENT_START = /[A-Za-z_\u0080-\uffff]/;
const IDENT_CONT = /[A-Za-z0-9_$\u0080-\uffff]/;
const DOLLAR_TAG = /^\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/;

class Refused extends Error {}

/** End (exclusive) of a '…' or "…" token starting at `i`; doubled quotes stay inside. */
function endQuoted(s: string, i: number, q: string, backslash: 'plain' | 'escape' | 'refuse'): number {
  for (let j = i + 1; j < s.length; j++) {
    const c = s[j];
    if (c === '\\' && backslash === 'escape') j++;
    else if (c === '\\' && backslash === 'refuse') {
      throw new Refused(
        "a backslash in a '…' string: its meaning depends on the server's " +
          `standard_conforming_strings; write the literal as E'…' with \\\\ for one backslash`,
      );
    } else if (c === q) {
      if (s[j + 1] === q) j++;
      else return j + 1;
    }
  }
  throw new Refused(`an unterminated ${q === '"' ? 'quoted identifier' : 'string literal'}`);
}

function endDollar(s: string, i: number): number {
  const tag = DOLLAR_TAG.exec(s.slice(i))![0];
  const close = s.indexOf(tag, i + tag.length);
  if (close < 0) throw new Refused(`an unterminated dollar-quoted string ${tag}…`);
  return close + tag.length;
}

/** An identifier or keyword at `i`, and a string literal glued to it (E'…', B'…', X'…', N'…', U&'…'). */
function endWord(s: string, i: number): number {
  let j = i + 1;
  while (j < s.length && IDENT_CONT.test(s[j])) j++;
  const word = s.slice(i, j).toLowerCase();
  if (word.length !== 1) return j;
  if (s[j] === "'") {
    if (word === 'e') return endQuoted(s, j, "'", 'escape');
    if (word === 'b' || word === 'x') {
      const end = s.indexOf("'", j + 1);
      if (end < 0) throw new Refused('an unterminated bit-string literal');
      return end + 1;
    }
    if (word === 'n') return endQuoted(s, j, "'", 'refuse');
  }
  if (word === 'u' && s[j] === '&' && (s[j + 1] === "'" || s[j + 1] === '"')) {
    return endQuoted(s, j + 1, s[j + 1], 'plain');
  }
  return j;
}

function scanOne(s: string, i: number, depth: { n: number }): number {
  const c = s[i];
  const two = s.slice(i, i + 2);
  if (two === '--' || two === '/*') throw new Refused(`a comment (${two === '--' ? '--' : '/* */'})`);
  if (c === ';') throw new Refused('a ";" (a statement separator)');
  if (c === '\0') throw new Refused('a NUL character');
  if (c === '(') depth.n++;
  if (c === ')' && --depth.n < 0) throw new Refused('a ")" that closes more parentheses than the filter opens');
  if (c === "'") return endQuoted(s, i, "'", 'refuse');
  if (c === '"') return endQuoted(s, i, '"', 'plain');
  if (c === '$') {
    if (/[0-9]/.test(s[i + 1] ?? '')) throw new Refused('a query parameter ($1…): write values as literals');
    if (DOLLAR_TAG.test(s.slice(i))) return endDollar(s, i);
  }
  if (IDENT_START.test(c)) return endWord(s, i);
  return i + 1;
}

/** Why the filter text is refused, or undefined when it is one self-contained expression. */
export function scanRowFilter(s: string): string | undefined {
  const depth = { n: 0 };
  try {
    for (let i = 0; i < s.length; ) i = scanOne(s, i, depth);
  } catch (e) {
    if (e instanceof Refused) return e.message;
    throw e;
  }
  return depth.n === 0 ? undefined : 'unbalanced parentheses (a "(" is never closed)';
}

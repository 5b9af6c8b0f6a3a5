/**
 * Bench helper: split `pg_dump --section=post-data` output into per-table early statements
 * (indexes, PK/UNIQUE) and late ones (foreign keys, triggers, everything else).
 */
import type { Statement } from '../ddl/statement.js';
import { tableKey } from '../task/selection.js';
import { parseQualifiedName } from '../util/ident.js';

const NAME = String.raw`((?:"(?:[^"]|"")+"|[^\s."]+)(?:\.(?:"(?:[^"]|"")+"|[^\s."]+))?)`;
const INDEX_RE = new RegExp(String.raw`^CREATE\s+(?:UNIQUE\s+)?INDEX\s+(\S+)\s+ON\s+(?:ONLY\s+)?${NAME}`, 'i');
const CONSTRAINT_RE = new RegExp(String.raw`^ALTER\s+TABLE\s+(?:ONLY\s+)?${NAME}\s+ADD\s+CONSTRAINT\s+(\S+)\s+(PRIMARY\s+KEY|UNIQUE|EXCLUDE)`, 'i');

function key(name: string): string {
  const p = parseQualifiedName(name);
  return p.length === 2 ? tableKey(p[0], p[1]) : tableKey('public', p[0]);
}

export function splitPostData(sql: string): { early: Statement[]; late: Statement[] } {
  const body = sql
    .split('\n')
    .filter((l) => !l.startsWith('--') && !l.startsWith('\\'))
    .join('\n');
  const stmts = body
    .split(/;\s*\n/)
    .map((s) => s.trim())
    .filter((s) => s && !/^SET\s/i.test(s) && !/^SELECT\s+pg_catalog\.set_config/i.test(s));
  const early: Statement[] = [];
  const late: Statement[] = [];
  for (const s of stmts) {
    let m = INDEX_RE.exec(s);
    if (m) {
      early.push({ key: `index ${m[1]}`, kind: 'index', name: m[1], section: 'early', sql: s, table: key(m[2]) });
      continue;
    }
    m = CONSTRAINT_RE.exec(s);
    if (m) {
      early.push({ key: `constraint ${m[2]}`, kind: 'constraint', name: m[2], section: 'early', sql: s, table: key(m[1]) });
      continue;
    }
    late.push({ key: `late ${late.length}`, kind: 'other', name: s.slice(0, 60), section: 'late', sql: s });
  }
  return { early, late };
}

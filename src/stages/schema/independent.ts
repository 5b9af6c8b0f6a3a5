/**
 * Which pre-data statements may be applied on two target sessions at once: runs of consecutive
 * CREATE TABLE blocks of which none names a table created earlier in the same run. The statements
 * come in dependency order (pg_depend), so whatever a table needs (schemas, types, sequences,
 * functions, a partitioned parent, an inheritance parent, another table's row type) comes before
 * it: either before the run (committed when the run starts) or in the run itself, where only
 * another table can be, and such a table is named in the block (PARTITION OF, INHERITS, a column
 * of its row type, a regclass constant). A block naming one ends the run and starts the next.
 *
 * Names are compared as words of the SQL text, strings and comments included, by the table's own
 * name without its schema: a false match only cuts a run short; a dependency is never missed.
 */
import type { Statement } from '../../core/statement.js';

export interface Run {
  /** The statements of the run, in order. */
  stmts: Statement[];
  /** Tables that do not depend on each other: may be created side by side. */
  independent: boolean;
}

/** Identifiers and words of a SQL text: quoted ones as written, others folded to lower case. */
const WORD = /"((?:[^"]|"")*)"|([\p{L}_][\p{L}\p{N}_$]*)/gu;

export function words(sql: string): Set<string> {
  const out = new Set<string>();
  for (const m of sql.matchAll(WORD)) {
    if (m[1] !== undefined) out.add(m[1].replace(/""/g, '"'));
    else out.add(m[2]).add(m[2].toLowerCase()); // both: PostgreSQL folds only ASCII letters
  }
  return out;
}

/** The last part of a qualified display name (`public.t1`, `"My Schema"."T 1"`): the table's own name. */
export function ownName(qualified: string): string {
  let last = '';
  for (const m of qualified.matchAll(WORD)) last = m[1] !== undefined ? m[1].replace(/""/g, '"') : m[2];
  return last;
}

/**
 * The statements cut into runs, in order: every run of at least `minRun` tables that do not depend
 * on each other is `independent`; everything else (and shorter runs) is applied in order on one session.
 */
export function independentRuns(stmts: Statement[], minRun: number): Run[] {
  const runs: Run[] = [];
  let serial: Statement[] = [];
  let cur: Statement[] = [];
  let names = new Set<string>();
  const endRun = () => {
    if (cur.length >= minRun) {
      if (serial.length) runs.push({ stmts: serial, independent: false });
      runs.push({ stmts: cur, independent: true });
      serial = [];
    } else serial.push(...cur);
    cur = [];
    names = new Set();
  };
  for (const s of stmts) {
    if (s.kind !== 'table') {
      endRun();
      serial.push(s);
      continue;
    }
    const own = ownName(s.name);
    // a table of the same name in another schema may be the one it names: not side by side either
    if (names.has(own)) endRun();
    else {
      for (const w of words(s.sql)) {
        if (w !== own && names.has(w)) {
          endRun();
          break;
        }
      }
    }
    cur.push(s);
    names.add(own);
  }
  endRun();
  if (serial.length) runs.push({ stmts: serial, independent: false });
  return runs;
}

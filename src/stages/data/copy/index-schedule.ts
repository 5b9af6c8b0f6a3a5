/**
 * Which early statement (index, PK/UNIQUE, attachment) or ANALYZE runs next, per table.
 * A table's early statements run in their given order, except that consecutive CREATE INDEX
 * statements run side by side; anything else (ADD CONSTRAINT … USING INDEX, ALTER INDEX …
 * ATTACH PARTITION, EXCLUDE constraints) waits for the statements before it and holds back
 * those after it. ANALYZE follows the table's last statement.
 */
import type { Statement } from '../../../core/statement.js';
import { indexPartKey } from '../../../state/keys.js';

const CREATE_INDEX = /^\s*CREATE\s+(UNIQUE\s+)?INDEX\b/i;

export function parallelSafe(st: Statement): boolean {
  return CREATE_INDEX.test(st.sql) && !/\bCONCURRENTLY\b/i.test(st.sql);
}

/**
 * A table's early statements in build order. A statement that builds an index and then attaches
 * it (PK/UNIQUE `… USING INDEX`, `ALTER INDEX … ATTACH PARTITION`) is split in two: the index
 * build, which runs side by side with the table's other index builds, and the attachment, which
 * takes an ACCESS EXCLUSIVE lock and so runs alone after them (two attachments running together
 * deadlock, each holding the SHARE lock of its own build). Each half commits with its own
 * checkpoint, so a resume redoes exactly the half that did not commit.
 */
export function buildOrder(stmts: Statement[], done: Set<string>): Statement[] {
  const builds: Statement[] = [];
  const rest: Statement[] = [];
  for (const st of stmts) {
    const m = /^(\s*CREATE\s+(?:UNIQUE\s+)?INDEX\b[\s\S]*?;)\s*\n(\s*ALTER\s+(?:TABLE|INDEX)\b[\s\S]*)$/i.exec(st.sql);
    if (!m || /\bCONCURRENTLY\b/i.test(m[1])) {
      (CREATE_INDEX.test(st.sql) && !/;\s*\S/.test(st.sql.trim().replace(/;$/, '')) ? builds : rest).push(st);
      continue;
    }
    const build = { ...st, key: indexPartKey(st.key), sql: m[1] };
    if (!done.has(build.key)) builds.push(build);
    rest.push({ ...st, sql: m[2] });
  }
  return [...builds, ...rest];
}

export interface IndexTable<R> {
  key: string;
  /** The copied table (absent for statements whose table is not copied). */
  run?: R;
  pending: Statement[];
  running: number;
  barrier: boolean;
  analyze: boolean;
}

/** One job for an index session: a statement, or (no stmt) the table's ANALYZE. */
export interface IndexJob<R> {
  t: IndexTable<R>;
  stmt?: Statement;
}

/** A table taken whole: its statements still to do, and whether ANALYZE follows. */
export interface WholeTable<R> {
  t: IndexTable<R>;
  stmts: Statement[];
  analyze: boolean;
}

export class IndexSchedule<R> {
  readonly tables: IndexTable<R>[] = [];

  add(key: string, run: R | undefined, stmts: Statement[], analyze: boolean): void {
    this.tables.push({ key, run, pending: [...stmts], running: 0, barrier: false, analyze });
  }

  get empty(): boolean {
    return this.tables.length === 0;
  }

  /** The next job that may start now, in table order; undefined when none may. */
  next(): IndexJob<R> | undefined {
    for (const t of this.tables) {
      if (t.barrier) continue;
      if (t.pending.length > 0) {
        const st = t.pending[0];
        const par = parallelSafe(st);
        if (!par && t.running > 0) continue;
        t.pending.shift();
        t.running++;
        if (!par) t.barrier = true;
        return { t, stmt: st };
      }
      if (t.running === 0 && t.analyze) {
        t.analyze = false;
        t.running++;
        t.barrier = true;
        return { t };
      }
    }
    return undefined;
  }

  /**
   * Up to `max` tables not started whose statements `whole` accepts, taken whole — their statements
   * and ANALYZE — for one session to run together; each is handed back with doneWhole().
   */
  takeWhole(whole: (t: IndexTable<R>) => boolean, max: number): WholeTable<R>[] {
    const out: WholeTable<R>[] = [];
    for (const t of this.tables) {
      if (out.length >= max) break;
      if (t.running > 0 || t.barrier || !whole(t)) continue;
      out.push({ t, stmts: t.pending.splice(0), analyze: t.analyze });
      t.analyze = false;
      t.running++;
      t.barrier = true;
    }
    return out;
  }

  doneWhole(w: WholeTable<R>): void {
    this.done({ t: w.t });
  }

  done(j: IndexJob<R>): void {
    const t = j.t;
    t.running--;
    if (t.barrier) t.barrier = false;
    if (t.pending.length === 0 && t.running === 0 && !t.analyze) this.tables.splice(this.tables.indexOf(t), 1);
  }
}

/**
 * Which early statement (index build, PK/UNIQUE attachment, EXCLUDE constraint) or ANALYZE runs next,
 * per table, from the statements' structured fields only (Statement.lock, Statement.buildOf: see
 * src/core/statement.ts): a table's statements run in their given order, except that consecutive
 * statements taking a SHARE lock (index builds) run side by side; any other statement waits for the
 * statements before it and holds back those after it. ANALYZE follows the table's last statement.
 */
import type { Statement } from '../../../core/statement.js';

/** Index builds (SHARE lock) of one table do not conflict with each other. */
export function parallelSafe(st: Statement): boolean {
  return st.lock === 'share';
}

/**
 * A table's early statements still to do, in build order: the index builds first, side by side (those
 * of another access method than btree ahead of the others), then the rest in order — an attachment (`… USING INDEX`, `ATTACH PARTITION`) takes an ACCESS EXCLUSIVE
 * lock and so runs alone after the builds (two attachments running together deadlock, each holding the
 * SHARE lock of its own build). Each step commits with its own checkpoint, so a resume redoes exactly
 * the steps that did not commit; a build whose attachment is done (recorded whole, as one statement,
 * by an earlier pgferry) is done too.
 */
export function buildOrder(stmts: Statement[], done: Set<string>): Statement[] {
  const todo = stmts.filter((st) => !done.has(st.key) && !(st.buildOf !== undefined && done.has(st.buildOf)));
  const builds = todo.filter(parallelSafe);
  // the longest builds first (GIN, GiST…: see Statement.method), the others in their given order
  return [
    ...builds.filter((st) => st.method),
    ...builds.filter((st) => !st.method),
    ...todo.filter((st) => !parallelSafe(st)),
  ];
}

export interface IndexTable<R> {
  key: string;
  /** The copied table (absent for statements whose table is not copied). */
  run?: R;
  pending: Statement[];
  running: number;
  barrier: boolean;
  analyze: boolean;
  /** Its ANALYZE runs (alone). */
  analyzing: boolean;
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
  /** Keys of `tables`. */
  private keys = new Set<string>();
  /** Tables none of whose jobs may start (a foreign key waits to be added on them), with how many hold each. */
  private held = new Map<string, number>();

  /** Start none of the table's jobs until release(). */
  hold(key: string): void {
    this.held.set(key, (this.held.get(key) ?? 0) + 1);
  }

  release(key: string): void {
    const n = (this.held.get(key) ?? 0) - 1;
    if (n > 0) this.held.set(key, n);
    else this.held.delete(key);
  }

  private free(t: IndexTable<R>): boolean {
    return !t.barrier && !this.held.has(t.key);
  }

  private find(key: string): IndexTable<R> | undefined {
    return this.keys.has(key) ? this.tables.find((t) => t.key === key) : undefined;
  }

  /** No job of the table runs now (or it has none left). */
  idle(key: string): boolean {
    return (this.find(key)?.running ?? 0) === 0;
  }

  /** The table's statements are all done (its indexes exist); its ANALYZE may be left. */
  statementsDone(key: string): boolean {
    const t = this.find(key);
    return !t || (t.pending.length === 0 && (t.running === 0 || t.analyzing));
  }

  add(key: string, run: R | undefined, stmts: Statement[], analyze: boolean): void {
    this.tables.push({ key, run, pending: [...stmts], running: 0, barrier: false, analyze, analyzing: false });
    this.keys.add(key);
  }

  get empty(): boolean {
    return this.tables.length === 0;
  }

  /** The table has statements or ANALYZE still to do or running. */
  has(key: string): boolean {
    return this.keys.has(key);
  }

  /** The next job that may start now, in table order; undefined when none may. */
  next(): IndexJob<R> | undefined {
    for (const t of this.tables) {
      if (!this.free(t)) continue;
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
        t.analyzing = true;
        t.running++;
        t.barrier = true;
        return { t };
      }
    }
    return undefined;
  }

  /**
   * A table's ANALYZE for the side session, taken ahead of the table's statements when that delays
   * none of them: the table is `big` (small ones go whole, see takeWhole), none of its statements
   * runs, and either none is left or the index sessions are all busy (`buildsWait`) and none is an
   * expression index (whose statistics ANALYZE gathers only once it exists). ANALYZE and CREATE INDEX
   * lock each other out on one table, so the table is held (barrier) until done().
   */
  nextAnalyze(big: (t: IndexTable<R>) => boolean, buildsWait: boolean): IndexJob<R> | undefined {
    for (const t of this.tables) {
      if (!t.analyze || !this.free(t) || t.running > 0 || !big(t)) continue;
      if (t.pending.length > 0 && (!buildsWait || t.pending.some((st) => st.expressions === true))) continue;
      t.analyze = false;
      t.analyzing = true;
      t.running++;
      t.barrier = true;
      return { t };
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
      if (t.running > 0 || !this.free(t) || !whole(t)) continue;
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
    if (!j.stmt) t.analyzing = false;
    if (t.pending.length === 0 && t.running === 0 && !t.analyze) {
      this.tables.splice(this.tables.indexOf(t), 1);
      this.keys.delete(t.key);
    }
  }
}

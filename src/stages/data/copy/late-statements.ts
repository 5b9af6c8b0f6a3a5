/**
 * The late statements the data stage runs itself (Statement.after: foreign keys between copied
 * tables), on the index sessions (./index-builder.ts), and when each may run:
 *  - ready once its tables are complete — rows in, early statements and ANALYZE done — and receive no
 *    other table's rows; a foreign key validated on the source (Statement.validation) once its own
 *    table is complete and the referenced table's statements are done (its key index exists; its
 *    ANALYZE may be left, to run beside the validation);
 *  - started when no other late statement locks its tables (SHARE ROW EXCLUSIVE); a split foreign
 *    key's NOT VALID step also waits for the referenced table's running ANALYZE, and holds that table's
 *    ANALYZE back until the step has committed (their locks conflict).
 */
import type { Statement } from '../../../core/statement.js';
import { qualify } from '../../../core/ident.js';
import { notValidKey } from '../../../state/keys.js';
import type { IndexSchedule } from './index-schedule.js';
import type { TableRun } from './types.js';

/** A late statement started: what it holds, let go as its steps end. */
export interface LateRun {
  /** Its NOT VALID step is still to run (the referenced table's ANALYZE waits until it has committed). */
  readonly adding: boolean;
  /** The NOT VALID step has committed: the referenced table is let go. */
  added(): void;
  /** The statement has ended, done or failed: its tables are let go. */
  end(): void;
}

export class LateStatements {
  /** Late statements waiting for their tables, under each of their tables. */
  private byTable = new Map<string, Statement[]>();
  /** Late statements whose tables are ready, to run. */
  private ready: Statement[] = [];
  private taken = new Set<Statement>();
  /** Tables a running late statement locks: one such statement per table at a time. */
  private busy = new Set<string>();
  /** Split foreign keys added NOT VALID in this run. */
  private addedKeys = new Set<string>();
  /** Keys of the late statements done in this run. */
  readonly done: string[] = [];
  private runs = new Map<string, TableRun>();
  private targetCount = new Map<string, number>();

  constructor(
    private schedule: IndexSchedule<TableRun>,
    private doneObj: Set<string>,
  ) {}

  /**
   * Late statements to run as soon as the tables they name are ready. Only tables of `runs` whose
   * target receives no other table's rows count: any other late statement stays for post-data.
   */
  add(stmts: Statement[], runs: Map<string, TableRun>, targetCount: Map<string, number>): void {
    this.runs = runs;
    this.targetCount = targetCount;
    for (const s of stmts) {
      if (s.after === undefined || s.after.length === 0 || this.doneObj.has(s.key)) continue;
      for (const k of s.after) this.byTable.set(k, [...(this.byTable.get(k) ?? []), s]);
    }
    for (const k of [...this.byTable.keys()]) this.completed(k);
  }

  /** Table `key` may be complete (or its statements done) now: its late statements whose tables are become ready. */
  completed(key: string): void {
    const waiting = this.byTable.get(key);
    if (!waiting || !this.landed(key)) return;
    for (const s of waiting) {
      if (this.taken.has(s) || !this.isReady(s)) continue;
      this.taken.add(s);
      this.ready.push(s);
      // the referenced table's ANALYZE waits for the NOT VALID step (their locks conflict), not for the validation
      if (this.toAdd(s)) this.schedule.hold(s.after![1]);
    }
  }

  /** The next ready late statement whose tables no other one locks, started; undefined when none may start. */
  next(): { late: Statement; run: LateRun } | undefined {
    const i = this.ready.findIndex(
      (s) => s.after!.every((k) => !this.busy.has(k)) && (!this.toAdd(s) || this.schedule.idle(s.after![1])),
    );
    if (i < 0) return undefined;
    const [late] = this.ready.splice(i, 1);
    for (const k of late.after!) this.busy.add(k);
    const ref = late.after![1];
    let held = this.toAdd(late);
    const letGo = () => {
      if (!held) return;
      held = false;
      this.schedule.release(ref);
      this.busy.delete(ref);
    };
    const run: LateRun = {
      adding: held,
      added: () => {
        this.addedKeys.add(late.key);
        letGo();
      },
      end: () => {
        letGo();
        for (const k of late.after!) this.busy.delete(k);
      },
    };
    return { late, run };
  }

  private isReady(s: Statement): boolean {
    if (s.validation) return this.complete(s.after![0]) && this.built(s.after![1]);
    return s.after!.every((k) => this.complete(k));
  }

  /** A split foreign key whose NOT VALID step is still to run. */
  private toAdd(s: Statement): boolean {
    return s.validation !== undefined && !this.doneObj.has(notValidKey(s.key)) && !this.addedKeys.has(s.key);
  }

  /** A table's rows are all in, and no other table's go to its target. */
  private landed(key: string): boolean {
    const run = this.runs.get(key);
    if (!run || run.left > 0) return false;
    return this.targetCount.get(qualify(run.table.target.schema, run.table.target.name)) === 1;
  }

  /** A table's rows are all in and its early statements and ANALYZE done. */
  private complete(key: string): boolean {
    return this.landed(key) && !this.schedule.has(key);
  }

  /** A table's rows are all in and its early statements done. */
  private built(key: string): boolean {
    return this.landed(key) && this.schedule.statementsDone(key);
  }
}

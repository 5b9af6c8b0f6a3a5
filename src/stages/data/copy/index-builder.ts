/**
 * The index sessions: when a table's last unit lands, its early statements (indexes, PK/UNIQUE)
 * run on a pool of indexJobs target sessions, each in a transaction with its checkpoint
 * (markObjectDone), then ANALYZE; the order comes from src/stages/data/copy/index-schedule.ts.
 * Small tables are taken whole, many at a time, in one transaction (index-batch.ts). One more
 * session runs big tables' ANALYZE ahead of their builds while every index session is busy (as a
 * table lands behind others' builds), so that ANALYZE is off the end of the run. Once the copy is
 * done, its slots run index sessions too (lend), so that the builds left at the end of the run go on
 * jobs + indexJobs sessions, not indexJobs. A foreign key between two copied tables (Statement.after)
 * runs on these sessions too, as soon as ./late-statements.ts finds its tables ready, overlapping the
 * rest of the copy; its checkpoint makes post-data skip it. One validated on the source
 * (Statement.validation) is added NOT VALID, then validated beside the referenced table's ANALYZE.
 * With every row in and at most one statement left, the run winds down (CopyOptions.onWindDown).
 */
import type pg from 'pg';
import type { Statement } from '../../../core/statement.js';
import { statementError } from '../../../core/privilege-fix.js';
import { markObjectDone } from '../../../state/checkpoint.js';
import { qualify, quoteIdent } from '../../../core/ident.js';
import { buildOrder, IndexSchedule, type IndexJob, type WholeTable } from './index-schedule.js';
import { buildTogether, INDEX_BATCH_TABLES, smallWhole } from './index-batch.js';
import { SMALL_BATCH } from '../plan/units.js';
import { analyzeKey, isIndexPartKey, notValidKey } from '../../../state/keys.js';
import { type LateRun, LateStatements } from './late-statements.js';
import { isTransient, withRetry } from '../../../pg/retry.js';
import { kill, openSession, TARGET_SESSION } from './sessions.js';
import type { Stage } from './stage.js';
import type { TableRun } from './types.js';

const INDEX_SESSION = [...TARGET_SESSION, `SET maintenance_work_mem = '512MB'`];

/**
 * A statement's transaction while other statements or the copy still run: an index build without
 * parallel workers. Workers shorten a build on idle cores but cost CPU (their sorts are merged):
 * 0.92 CPU-s serially, 1.07 with two for a B-tree of 3M rows (0.97 against 0.79 s of wall time),
 * CPU the copy and the other builds beside it would use. Alone, a build keeps the server's setting.
 */
const SERIAL_BUILD = 'BEGIN; SET LOCAL max_parallel_maintenance_workers = 0';

/** One index session: connected on first use, dropped for a retry. */
class IndexSession {
  private c?: pg.Client;
  constructor(
    private st: Stage,
    private n: number,
  ) {}

  async client(): Promise<pg.Client> {
    this.c ??= await openSession(this.st.o.target, 'target', `index-${this.n}`, INDEX_SESSION);
    return this.c;
  }

  drop(): void {
    kill(this.c);
    this.c = undefined;
  }

  async end(): Promise<void> {
    if (this.c) await this.c.end().catch(() => {});
  }
}

/** One piece of an index session's work: its run, and what marks it ended (after success or failure). */
interface Work {
  run(): Promise<void>;
  ended(): void;
}

export class IndexBuilder {
  readonly schedule = new IndexSchedule<TableRun>();
  private waiters = new Set<() => void>();
  /** The ANALYZE session, waiting: woken after the index sessions woken with it have taken their jobs. */
  private analyzeWaiter?: () => void;
  private copyFinished = false;
  private sessions: Promise<void>[] = [];
  /** Index sessions waiting for work. */
  private idle = 0;
  /** Statements (or groups) running now, on every session. */
  private running = 0;
  /** CopyOptions.onWindDown was called. */
  private woundDown = false;
  /** Index sessions started in the copy's idle slots (lend). */
  private lent = 0;
  /** Numbers the sessions (application_name index-N). */
  private numbered = 0;

  /** Foreign keys between copied tables, run on the index sessions as their tables complete. */
  readonly late: LateStatements;

  constructor(
    private st: Stage,
    private earlyByTable: Map<string, Statement[]>,
    private doneObj: Set<string>,
  ) {
    this.late = new LateStatements(this.schedule, doneObj);
    st.failure.onFail(() => this.wake());
  }

  /**
   * A late statement on an index session: a split foreign key added NOT VALID (the referenced table
   * is let go once that has committed), then validated; any other in one step.
   */
  private lateWork(s: IndexSession, late: Statement, step: LateRun): Work {
    const own = late.after![0];
    return {
      run: async () => {
        const v = late.validation;
        if (v) {
          if (step.adding) {
            const key = notValidKey(late.key);
            await this.runStatement(s, own, { ...late, key, sql: v.notValid }, false, false);
            step.added();
            this.wake();
          }
          await this.runStatement(s, own, { ...late, sql: v.validate }, false);
        } else await this.runStatement(s, own, late, false);
        this.late.done.push(late.key);
      },
      ended: () => step.end(),
    };
  }

  start(indexJobs: number): void {
    const n = Math.max(1, indexJobs);
    this.sessions = Array.from({ length: n }, () => this.loop(new IndexSession(this.st, ++this.numbered)));
    this.sessions.push(this.analyzeLoop(new IndexSession(this.st, ++this.numbered)));
  }

  /**
   * The copy has `slots` sessions' worth of idle slots for good (its units are all done): up to that
   * many more index sessions, for the rest of the run. Called again as slots free up; never before
   * start() nor after finish().
   */
  lend(slots: number): void {
    if (this.copyFinished || this.sessions.length === 0) return;
    while (this.lent < slots) {
      this.lent++;
      this.sessions.push(this.loop(new IndexSession(this.st, ++this.numbered)));
    }
  }

  /** Queue a table whose data is complete: its statements still to do, then ANALYZE. */
  enqueue(run: TableRun): void {
    const key = run.table.key;
    const stmts = buildOrder(this.earlyByTable.get(key) ?? [], this.doneObj);
    const analyze = !this.doneObj.has(analyzeKey(key)) && (stmts.length > 0 || run.copiedThisRun);
    if (stmts.length === 0 && !analyze) {
      this.late.completed(key);
      return;
    }
    this.schedule.add(key, run, stmts, analyze);
    // nothing but ANALYZE left: a foreign key referencing it may be added already
    if (stmts.length === 0) this.late.completed(key);
    this.wake();
  }

  /** All data is in: run `orphans` (statements of tables not copied), and end when all is done. */
  async finish(orphans: Statement[]): Promise<void> {
    const todo = buildOrder(orphans, this.doneObj);
    if (todo.length) this.schedule.add('', undefined, todo, false);
    this.copyFinished = true;
    this.wake();
    await Promise.all(this.sessions);
  }

  /** After a failure: let the sessions end. */
  async settle(): Promise<void> {
    this.copyFinished = true;
    this.wake();
    await Promise.allSettled(this.sessions);
  }

  private wake(): void {
    if (this.copyFinished) setImmediate(() => this.windDown());
    for (const w of [...this.waiters]) w();
    this.waiters.clear();
    const a = this.analyzeWaiter;
    this.analyzeWaiter = undefined;
    // a macrotask later: the index sessions resumed above have taken what they take (synchronously, on
    // resuming), so a free index session is never beaten to a table by its ANALYZE
    if (a) setImmediate(a);
  }

  /**
   * Every row in and at most one statement running: the run winds down. Before a statement (which
   * `running` counts already), it is the only one.
   */
  private windingDown(): boolean {
    return this.copyFinished && this.running <= 1;
  }

  /**
   * The run winds down (checked a macrotask after a wake, once the woken sessions have taken their
   * work): CopyOptions.onWindDown, once.
   */
  private windDown(): void {
    if (this.woundDown || !this.windingDown() || this.st.failure.failed) return;
    this.woundDown = true;
    try {
      this.st.o.onWindDown?.();
    } catch {
      // a listener's failure is not the copy's
    }
  }

  /**
   * A session's work until the copy is finished and nothing is left: `take` gives the next piece of
   * work (its run, and what to mark once it has ended, failed or not), or undefined, then `wait`
   * until something changes.
   */
  private async serve(s: IndexSession, take: () => Work | undefined, wait: () => Promise<void>): Promise<void> {
    try {
      for (;;) {
        if (this.st.failure.failed || this.st.o.signal?.aborted) return;
        const work = take();
        if (!work) {
          if (this.copyFinished && this.schedule.empty) return;
          await wait();
          continue;
        }
        this.running++;
        try {
          await work.run();
        } finally {
          this.running--;
          work.ended();
          this.wake();
        }
      }
    } catch (e) {
      this.st.failure.set(e);
    } finally {
      await s.end();
    }
  }

  /** An index session: small tables' groups, then foreign keys whose tables are complete, then single steps. */
  private loop(s: IndexSession): Promise<void> {
    const take = (): Work | undefined => {
      const group = this.schedule.takeWhole(smallWhole, INDEX_BATCH_TABLES);
      if (group.length > 0)
        return {
          run: () => this.runGroup(s, group),
          ended: () => {
            for (const w of group) {
              this.schedule.doneWhole(w);
              this.late.completed(w.t.key);
            }
          },
        };
      const late = this.late.next();
      if (late) return this.lateWork(s, late.late, late.run);
      const job = this.schedule.next();
      return job && this.jobWork(job, () => this.runJob(s, job));
    };
    const wait = async () => {
      this.idle++;
      await new Promise<void>((res) => this.waiters.add(res));
      this.idle--;
    };
    return this.serve(s, take, wait);
  }

  /** The side session: ANALYZE of big tables whose builds wait for a busy index session (IndexSchedule.nextAnalyze). */
  private analyzeLoop(s: IndexSession): Promise<void> {
    const big = (t: { run?: TableRun }) => (t.run?.size?.bytes ?? 0) > SMALL_BATCH.tableBytes;
    const take = (): Work | undefined => {
      const job = this.schedule.nextAnalyze(big, this.idle === 0);
      return job && this.jobWork(job, () => this.analyze(s, job.t.run!));
    };
    return this.serve(s, take, () => new Promise<void>((res) => (this.analyzeWaiter = res)));
  }

  /** A scheduled job's work: marked done in the schedule once it has ended. */
  private jobWork(job: IndexJob<TableRun>, run: () => Promise<void>): Work {
    return {
      run,
      ended: () => {
        this.schedule.done(job);
        this.late.completed(job.t.key);
      },
    };
  }

  private async runJob(s: IndexSession, job: IndexJob<TableRun>): Promise<void> {
    if (job.stmt) await this.runStatement(s, job.t.key, job.stmt);
    else if (job.t.run) await this.analyze(s, job.t.run);
  }

  /** Small tables' statements and ANALYZE in one transaction; after a failure, one by one (naming it). */
  private async runGroup(s: IndexSession, group: WholeTable<TableRun>[]): Promise<void> {
    const { events, taskId } = this.st.o;
    const t0 = Date.now();
    for (const w of group)
      for (const st of w.stmts) events.emit({ type: 'index-start', table: w.t.key, name: st.name });
    const what = `index builds of ${group.length} small tables`;
    try {
      await withRetry({ ...this.st.retryBase, what, onRetry: () => s.drop() }, async () =>
        buildTogether(await s.client(), taskId, group),
      );
    } catch (e) {
      if (this.st.o.signal?.aborted) throw e;
      for (const w of group) {
        for (const st of w.stmts) await this.runStatement(s, w.t.key, st);
        if (w.analyze) await this.analyze(s, w.t.run!);
      }
      return;
    }
    for (const w of group) {
      for (const st of w.stmts) {
        events.emit({ type: 'index-done', table: w.t.key, name: st.name, durationMs: Date.now() - t0 });
        if (isIndexPartKey(st.key)) continue;
        events.emit({ type: 'object', action: 'created', kind: st.kind, name: st.name, section: st.section });
      }
    }
  }

  /**
   * One statement in a transaction with its checkpoint; `indexEvents`: index-start/index-done around it;
   * `created`: the object's event after it (not for a first step, such as a foreign key added NOT VALID).
   */
  private async runStatement(
    s: IndexSession,
    table: string,
    st: Statement,
    indexEvents = true,
    created = true,
  ): Promise<void> {
    const { events, taskId } = this.st.o;
    const t0 = Date.now();
    if (indexEvents) events.emit({ type: 'index-start', table, name: st.name });
    await withRetry({ ...this.st.retryBase, what: `${st.kind} ${st.name}`, onRetry: () => s.drop() }, async () => {
      const cl = await s.client();
      try {
        if (st.transactional !== false) await cl.query(this.windingDown() ? 'BEGIN' : SERIAL_BUILD);
        await cl.query(st.sql);
        await markObjectDone(cl, taskId, st.key, st.kind, st.section);
        if (st.transactional !== false) await cl.query('COMMIT');
      } catch (e) {
        if (isTransient(e)) throw e;
        await cl.query('ROLLBACK').catch(() => {});
        // a refused privilege names the GRANT that fixes it
        throw statementError('schema', st.sql, e, `${st.kind} ${st.name}`, quoteIdent(this.st.o.target.user));
      }
    });
    if (indexEvents) events.emit({ type: 'index-done', table, name: st.name, durationMs: Date.now() - t0 });
    if (created && !isIndexPartKey(st.key)) {
      events.emit({ type: 'object', action: 'created', kind: st.kind, name: st.name, section: st.section });
    }
  }

  private async analyze(s: IndexSession, run: TableRun): Promise<void> {
    const key = analyzeKey(run.table.key);
    const tgt = qualify(run.table.target.schema, run.table.target.name);
    await withRetry({ ...this.st.retryBase, what: `analyze ${tgt}`, onRetry: () => s.drop() }, async () => {
      const cl = await s.client();
      await cl.query(`ANALYZE ${tgt}`);
      await markObjectDone(cl, this.st.o.taskId, key, 'analyze', 'early');
    });
  }
}

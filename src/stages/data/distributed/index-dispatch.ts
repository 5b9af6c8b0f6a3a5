/**
 * The coordinator's side of distributed index builds: when a table's last unit lands, its early
 * statements still to do and its ANALYZE go into the data stage's own schedule
 * (src/stages/data/copy/index-schedule.ts: builds side by side, each attachment alone after them,
 * ANALYZE last); every step the schedule lets start becomes a job of the task's index queue, which
 * any worker runs (index-build.ts) within the task's --index-jobs slots. A completed job lets the
 * schedule's next steps of its table go. Small tables go whole, up to INDEX_BATCH_TABLES to a job
 * (as the local builder batches them, copy/index-batch.ts): one job, one transaction, each step's
 * checkpoint committed with it.
 */
import type PgBoss from 'pg-boss';
import { PgferryError } from '../../../core/errors.js';
import type { EventBus } from '../../../core/events.js';
import type { Statement } from '../../../core/statement.js';
import { analyzeKey, isIndexPartKey } from '../../../state/keys.js';
import { buildOrder, IndexSchedule, type IndexJob, type WholeTable } from '../copy/index-schedule.js';
import { INDEX_BATCH_TABLES, smallWhole } from '../copy/index-batch.js';
import type { TableRun } from '../copy/types.js';
import { JOBS_SCHEMA, jobIdOf, type ControlDb, type JobTiming } from './control.js';
import type { IndexStep } from '../copy/index-group.js';
import {
  describeIndexJob,
  groupSteps,
  indexJobKey,
  jobSteps,
  type IndexJobData,
  type IndexJobOutput,
} from './index-build.js';

export interface IndexDispatchOptions {
  taskId: string;
  runId: string;
  queue: string;
  boss: PgBoss;
  timing: JobTiming;
  events: EventBus;
  earlyByTable: Map<string, Statement[]>;
  doneObj: Set<string>;
  /** Called after jobs were queued (workers are told). */
  queued(): void;
}

/** A queued job: one step of a table, or small tables taken whole (a group). */
type Inflight = { data: IndexJobData } & ({ job: IndexJob<TableRun> } | { group: WholeTable<TableRun>[] });

const targetOf = (run: TableRun) => ({ schema: run.table.target.schema, name: run.table.target.name });

export class IndexDispatch {
  private schedule = new IndexSchedule<TableRun>();
  private inflight = new Map<string, Inflight>();
  private chain: Promise<void> = Promise.resolve();
  private error?: unknown;

  constructor(private o: IndexDispatchOptions) {}

  /** Nothing queued nor running. */
  get idle(): boolean {
    return this.schedule.empty && this.inflight.size === 0;
  }

  /** A table whose data is complete: its statements still to do, then ANALYZE (as the local builder decides). */
  enqueue(run: TableRun): void {
    const key = run.table.key;
    const stmts = buildOrder(this.o.earlyByTable.get(key) ?? [], this.o.doneObj);
    const analyze = !this.o.doneObj.has(analyzeKey(key)) && (stmts.length > 0 || run.copiedThisRun);
    if (stmts.length === 0 && !analyze) return;
    this.schedule.add(key, run, stmts, analyze);
    this.kick();
  }

  /** Queue every step the schedule lets start now (one insert at a time, in order). */
  private kick(): void {
    this.chain = this.chain.then(async () => {
      if (this.error) return;
      const jobs: PgBoss.JobInsert[] = [];
      const push = (f: Inflight) => {
        const key = indexJobKey(f.data);
        const id = jobIdOf(this.o.taskId, this.o.runId, `index\u0000${key}`);
        this.inflight.set(id, f);
        const t = this.o.timing;
        jobs.push({
          id,
          name: this.o.queue,
          data: f.data,
          singletonKey: key,
          retryLimit: t.retryLimit,
          retryDelay: t.retryDelaySec,
          retryBackoff: true,
          expireInSeconds: t.expireSec,
        });
      };
      // small tables whole, up to INDEX_BATCH_TABLES a job, as the local builder takes them
      for (let g = this.takeGroup(); g.length > 0; g = this.takeGroup()) {
        const group = g.map((w) => ({
          table: w.t.key,
          stmts: w.stmts,
          analyze: w.analyze,
          target: targetOf(w.t.run!),
        }));
        for (const w of g)
          for (const st of w.stmts) this.o.events.emit({ type: 'index-start', table: w.t.key, name: st.name });
        push({ group: g, data: { taskId: this.o.taskId, table: '', group } });
      }
      for (let j = this.schedule.next(); j; j = this.schedule.next()) {
        const data: IndexJobData = { taskId: this.o.taskId, table: j.t.key, stmt: j.stmt, target: targetOf(j.t.run!) };
        if (j.stmt) this.o.events.emit({ type: 'index-start', table: j.t.key, name: j.stmt.name });
        push({ job: j, data });
      }
      if (jobs.length === 0) return;
      try {
        await this.o.boss.insert(jobs);
        this.o.queued();
      } catch (e) {
        this.error = e;
      }
    });
  }

  private takeGroup(): WholeTable<TableRun>[] {
    return this.schedule.takeWhole(smallWhole, INDEX_BATCH_TABLES);
  }

  /**
   * Read the jobs that ended: completed ones free their table's next steps; one failed after its retries fails
   * the run. A job is done when its steps' checkpoints are on the target (`notDone` reads them there: a worker
   * commits them before it completes the job), not because the control database says so.
   */
  async poll(db: ControlDb, notDone: (steps: IndexStep[]) => Promise<IndexStep[]>): Promise<void> {
    await this.chain;
    if (this.error) throw this.error;
    if (this.inflight.size === 0) return;
    const r = await db.query<{ id: string; state: string; output: (IndexJobOutput & { message?: string }) | null }>(
      `SELECT id, state, output FROM ${JOBS_SCHEMA}.job
        WHERE name = $1 AND id = ANY($2::uuid[]) AND state IN ('completed', 'failed')`,
      [this.o.queue, [...this.inflight.keys()]],
    );
    let freed = false;
    for (const row of r.rows) {
      const f = this.inflight.get(row.id);
      if (!f) continue;
      const what = describeIndexJob(f.data);
      if (row.state === 'failed') {
        throw new PgferryError(
          'data',
          `${what} failed on the workers after its retries: ${row.output?.message ?? 'no message'}`,
          { hint: 'see the workers’ output, fix the cause, and rerun the same command: steps done stay done' },
        );
      }
      const missing = await notDone(jobSteps(f.data));
      if (missing.length) {
        throw new PgferryError(
          'data',
          `${what} is marked completed in the control database, but the target has no checkpoint of ` +
            `${missing.map((s) => s.key).join(', ')}: it did not run there`,
          {
            hint:
              'only pgferry should write to the control database (schemas pgferry_jobs and pgferry_control): revoke ' +
              'anyone else’s access, then rerun the same command: steps without their checkpoint run again',
          },
        );
      }
      this.inflight.delete(row.id);
      if ('group' in f) for (const w of f.group) this.schedule.doneWhole(w);
      else this.schedule.done(f.job);
      freed = true;
      const out = row.output;
      const steps = f.data.group ? groupSteps(f.data) : [f.data];
      for (const { stmt: st, table } of steps) {
        if (!st) continue;
        this.o.events.emit({ type: 'index-done', table, name: st.name, durationMs: out?.durationMs ?? 0 });
        if (!isIndexPartKey(st.key)) {
          this.o.events.emit({ type: 'object', action: 'created', kind: st.kind, name: st.name, section: st.section });
        }
      }
      this.o.events.info(
        `${what} ${out?.ran === false ? 'was done already' : 'done'} on worker ${out?.worker ?? 'unknown'}`,
      );
    }
    if (freed) this.kick();
    await this.chain;
    if (this.error) throw this.error;
  }
}

/**
 * A consumer of copy-unit jobs: claims units of running tasks from the job system, imports the
 * coordinator's exported snapshot on the source, and copies each unit with the data stage's own
 * unit copy (rows and checkpoint committed in one target transaction). A unit whose checkpoint
 * is already there (it ran before, on a worker that was given up for dead) rolls back and counts
 * as done: it lands once. Used by `pgferry worker` and by a coordinator's local workers.
 */
import { hostname } from 'node:os';
import type pg from 'pg';
import type PgBoss from 'pg-boss';
import { errorMessage, isPgError } from '../../../core/errors.js';
import type { ConnSpec } from '../../../pg/connstring.js';
import { unitsOf, type CopyUnit } from '../plan/units.js';
import type { Format } from '../copy/format.js';
import { kill, openSession, SOURCE_SESSION, TARGET_SESSION } from '../copy/sessions.js';
import { Throttle } from '../copy/throttle.js';
import { tableRun } from '../copy/plan-runs.js';
import type { TableRun } from '../copy/types.js';
import { copyUnitsRows, type Copied } from '../copy/worker.js';
import { useStateSchema } from '../../../state/checkpoint.js';
import { beginInSnapshot } from '../snapshot-source.js';
import {
  CONTROL_SCHEMA,
  freeIndexSlot,
  indexQueueOf,
  keepIndexSlot,
  keepJobAlive,
  DONE_CHANNEL,
  listen,
  notify,
  QUEUED_CHANNEL,
  takeIndexSlot,
  type ControlDb,
  type JobTiming,
} from './control.js';
import { describeIndexJob, runIndexJob, type IndexJobData, type IndexJobOutput } from './index-build.js';
import { checkIndexJob, checkUnitJob } from './job-check.js';

/** One member of a job: a unit (a batch's lead and each small table travel as members) and how to copy it. */
export interface JobMember {
  unit: CopyUnit;
  format: Format;
  qualifyNames: boolean;
  freezeOk: boolean;
}

export interface UnitJob {
  taskId: string;
  members: JobMember[];
}

/** A running task as the control database has it. */
export interface TaskRow {
  task_id: string;
  queue: string;
  source_uri: string;
  target_uri: string;
  snapshot: string;
  lineage: string;
  state_schema: string;
  paused: boolean;
  max_rows_per_sec: number | null;
  max_bytes_per_sec: number | null;
  /** Workers with a fresh heartbeat on this task (rate limits are shared among them). */
  workers: number;
}

export interface ConsumerOptions {
  db: ControlDb;
  boss: PgBoss;
  timing: JobTiming;
  /** Units copied at once by this process. */
  concurrency: number;
  /** Connections of a task: from its URIs with this host's secrets, or the coordinator's own. */
  specsFor(t: TaskRow): { source: ConnSpec; target: ConnSpec };
  /** Only this task's units (a coordinator's local workers); default: every running task. */
  taskId?: string;
  /** Name in the worker list (default host:pid). */
  workerId?: string;
  pollMs?: number;
  log(level: 'info' | 'warn', message: string): void;
}

const HEARTBEAT_MS = 2000;

/** The sessions one loop of the consumer keeps between units of the same task. */
interface Slot {
  /** This loop's name as a holder of index slots. */
  name: string;
  task?: string;
  src?: pg.Client;
  tgt?: pg.Client;
  /** The index session (maintenance_work_mem raised as the local index sessions have it). */
  idx?: pg.Client;
}

const INDEX_SESSION = [...TARGET_SESSION, `SET maintenance_work_mem = '512MB'`];

function endSessions(slot: Slot): void {
  for (const c of [slot.src, slot.tgt, slot.idx]) c?.end().catch(() => {});
  slot.src = slot.tgt = slot.idx = undefined;
}

function dropSessions(slot: Slot): void {
  kill(slot.src);
  kill(slot.tgt);
  kill(slot.idx);
  slot.src = slot.tgt = slot.idx = undefined;
}

/** Members' TableRun: what the unit copy reads and counts of a table. */
function runOf(m: JobMember, lineage: string): TableRun {
  return tableRun({
    table: m.unit.table,
    units: [m.unit],
    left: 1,
    freezeOk: m.freezeOk,
    format: m.format,
    lineage,
    qualifyNames: m.qualifyNames,
  });
}

/** The job of a queued unit: the unit and its batch's members, each with its table's copy settings. */
export function jobOf(taskId: string, u: CopyUnit, runs: Map<string, TableRun>): UnitJob {
  return {
    taskId,
    members: unitsOf(u).map((m) => {
      const run = runs.get(m.table.key)!;
      const { batch: _batch, ...unit } = m;
      return { unit, format: run.format, qualifyNames: run.qualifyNames, freezeOk: run.freezeOk };
    }),
  };
}

export class UnitConsumer {
  readonly workerId: string;
  private ac = new AbortController();
  private loops: Promise<void>[] = [];
  private heartbeat?: NodeJS.Timeout;
  private tasksCache?: { at: number; rows: Promise<TaskRow[]> };
  private throttles = new Map<string, Throttle>();
  private touched = new Set<string>();
  private cpu0 = process.cpuUsage();
  private wakers = new Set<() => void>();
  private listener?: { close(): Promise<void> };

  constructor(private o: ConsumerOptions) {
    this.workerId = o.workerId ?? `${hostname()}:${process.pid}`;
  }

  start(): void {
    this.heartbeat = setInterval(() => void this.beat(), HEARTBEAT_MS);
    this.heartbeat.unref();
    // a coordinator that queues work wakes the idle loops at once
    this.listener = listen(this.o.db.spec, 'worker', QUEUED_CHANNEL, () => this.wake());
    for (let i = 0; i < Math.max(1, this.o.concurrency); i++) this.loops.push(this.loop(i + 1));
  }

  private wake(): void {
    this.tasksCache = undefined;
    for (const w of [...this.wakers]) w();
  }

  /** Idle: wait for a notification of queued work, `ms` at most. */
  private sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((res) => {
      const t = setTimeout(done, ms);
      const wakers = this.wakers;
      function done() {
        clearTimeout(t);
        signal.removeEventListener('abort', done);
        wakers.delete(done);
        res();
      }
      signal.addEventListener('abort', done, { once: true });
      wakers.add(done);
    });
  }

  /** Stop claiming; resolves when the units running have ended. */
  async stop(): Promise<void> {
    this.ac.abort();
    clearInterval(this.heartbeat);
    await Promise.all(this.loops);
    await this.listener?.close();
    await this.beat();
  }

  private async tasks(): Promise<TaskRow[]> {
    const now = Date.now();
    if (!this.tasksCache || now - this.tasksCache.at > 1000) {
      const rows = this.o.db
        .query<TaskRow>(
          `SELECT t.task_id, t.queue, t.source_uri, t.target_uri, t.snapshot, t.lineage, t.state_schema, t.paused,
                  t.max_rows_per_sec, t.max_bytes_per_sec,
                  (SELECT count(*)::int FROM ${CONTROL_SCHEMA}.worker w
                    WHERE w.task_id = t.task_id AND w.heartbeat_at > now() - interval '10 seconds') AS workers
             FROM ${CONTROL_SCHEMA}.task t
            WHERE t.running AND ($1::text IS NULL OR t.task_id = $1)`,
          [this.o.taskId ?? null],
        )
        .then((r) => r.rows);
      rows.catch(() => {});
      this.tasksCache = { at: now, rows };
    }
    return this.tasksCache.rows;
  }

  private async loop(n: number): Promise<void> {
    const signal = this.ac.signal;
    const slot: Slot = { name: `${this.workerId}/${n}` };
    try {
      await this.loopOn(slot, signal);
    } finally {
      endSessions(slot);
    }
  }

  private async loopOn(slot: Slot, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let ran = false;
      try {
        for (const t of await this.tasks()) {
          if (t.paused || signal.aborted) continue;
          // counted among the task's workers before the first unit: rate limits are shared from the start
          if (!this.touched.has(t.task_id)) await this.register(t.task_id);
          // a landed table's index steps first: they let the coordinator's phases go on
          if (await this.indexStep(t, slot)) {
            ran = true;
            break;
          }
          const jobs = (await this.o.boss.fetch<UnitJob>(t.queue, { batchSize: 1 })) ?? [];
          if (jobs.length === 0) continue;
          await this.runJob(t, jobs[0], slot);
          ran = true;
          break;
        }
      } catch (e) {
        this.o.log('warn', `worker ${this.workerId}: ${errorMessage(e)}`);
      }
      if (!ran) {
        // nothing to do: the sessions go (a finished task's databases are left alone)
        if (slot.src || slot.tgt || slot.idx) endSessions(slot);
        await this.sleep(this.o.pollMs ?? 500, signal);
      }
    }
  }

  /** Within one of the task's index slots, run one index job if there is one; true if it ran. */
  private async indexStep(t: TaskRow, slot: Slot): Promise<boolean> {
    const { db, boss, timing } = this.o;
    const n = await takeIndexSlot(db, t.task_id, slot.name, timing.expireSec);
    if (n === undefined) return false;
    const queue = indexQueueOf(t.task_id);
    let job: PgBoss.Job<IndexJobData> | undefined;
    try {
      job = ((await boss.fetch<IndexJobData>(queue, { batchSize: 1 })) ?? [])[0];
      if (!job) return false;
      await this.runIndex(t, queue, job, n, slot);
      return true;
    } finally {
      await freeIndexSlot(db, t.task_id, n, slot.name).catch(() => {});
    }
  }

  private async runIndex(t: TaskRow, queue: string, job: PgBoss.Job<IndexJobData>, n: number, slot: Slot) {
    const { db, boss, timing } = this.o;
    const keep = setInterval(
      () => {
        void keepJobAlive(db, queue, job.id).catch(() => {});
        void keepIndexSlot(db, t.task_id, n, slot.name).catch(() => {});
      },
      Math.max(500, (timing.expireSec * 1000) / 3),
    );
    const t0 = Date.now();
    let what = 'an index job';
    try {
      // a job is checked before anything of it runs: whoever writes to the control database is not trusted
      const data = checkIndexJob(t.task_id, job.data);
      what = describeIndexJob(data);
      const { target } = this.o.specsFor(t);
      if (slot.task !== t.task_id) dropSessions(slot);
      slot.task = t.task_id;
      useStateSchema(t.task_id, t.state_schema);
      let ran: boolean;
      try {
        slot.idx ??= await openSession(target, 'target', 'worker-index', INDEX_SESSION);
        ran = await runIndexJob(slot.idx, data, target.user);
      } catch (e) {
        kill(slot.idx);
        slot.idx = undefined;
        throw e;
      }
      const out: IndexJobOutput = { worker: this.workerId, ran, durationMs: Date.now() - t0 };
      await boss.complete(queue, job.id, out);
      await db.query(
        `UPDATE ${CONTROL_SCHEMA}.worker SET index_done = index_done + 1, busy_ms = busy_ms + $3, heartbeat_at = now()
          WHERE worker_id = $1 AND task_id = $2`,
        [this.workerId, t.task_id, Date.now() - t0],
      );
      await notify(db, DONE_CHANNEL, queue).catch(() => {});
    } catch (e) {
      this.o.log('warn', `worker ${this.workerId}: ${what}: ${errorMessage(e)}`);
      await boss.fail(queue, job.id, { message: errorMessage(e) }).catch(() => {});
    } finally {
      clearInterval(keep);
    }
  }

  private throttleOf(t: TaskRow): Throttle {
    const share = Math.max(1, t.workers);
    const per = (v: number | null) => (v === null ? null : v / share);
    let th = this.throttles.get(t.task_id);
    if (!th) this.throttles.set(t.task_id, (th = new Throttle(null, null)));
    th.set(per(t.max_rows_per_sec), per(t.max_bytes_per_sec));
    return th;
  }

  private async runJob(t: TaskRow, job: PgBoss.Job<UnitJob>, slot: Slot): Promise<void> {
    const { db, boss, timing } = this.o;
    await this.register(t.task_id);
    const keep = setInterval(
      () => void keepJobAlive(db, t.queue, job.id).catch(() => {}),
      Math.max(500, (timing.expireSec * 1000) / 3),
    );
    const t0 = Date.now();
    try {
      // a job is checked before anything of it runs: whoever writes to the control database is not trusted
      const copied = await this.copy(t, checkUnitJob(t.task_id, job.data), slot);
      const rows = copied.reduce((a, c) => a + c.rows, 0);
      const bytes = copied.reduce((a, c) => a + c.bytes, 0);
      await boss.complete(t.queue, job.id, { rows, bytes, worker: this.workerId });
      const cpu = process.cpuUsage(this.cpu0);
      await db.query(
        `UPDATE ${CONTROL_SCHEMA}.worker SET units_done = units_done + $3, rows = rows + $4, bytes = bytes + $5,
                busy_ms = busy_ms + $6, heartbeat_at = now(), cpu_user_us = $7, cpu_system_us = $8
          WHERE worker_id = $1 AND task_id = $2`,
        [this.workerId, t.task_id, job.data.members.length, rows, bytes, Date.now() - t0, cpu.user, cpu.system],
      );
      await notify(db, DONE_CHANNEL, t.queue).catch(() => {});
    } catch (e) {
      if (isPgError(e) && e.code === '23505' && /unit/.test(e.constraint ?? e.table ?? '')) {
        // the unit's checkpoint is there: an earlier claim of it committed; this copy rolled back
        this.o.log(
          'info',
          `unit ${job.data.members[0]?.unit.id} was copied meanwhile by another worker: this copy rolled back`,
        );
        await boss.complete(t.queue, job.id, { already: true, worker: this.workerId });
        return;
      }
      const unit = job.data?.members?.[0]?.unit?.id;
      this.o.log('warn', `worker ${this.workerId}: ${unit ? `unit ${unit}: ` : ''}${errorMessage(e)}`);
      await boss.fail(t.queue, job.id, { message: errorMessage(e) }).catch(() => {});
    } finally {
      clearInterval(keep);
    }
  }

  private async copy(t: TaskRow, job: UnitJob, slot: Slot): Promise<Copied[]> {
    const { source, target } = this.o.specsFor(t);
    if (slot.task !== t.task_id) dropSessions(slot);
    slot.task = t.task_id;
    try {
      slot.src ??= await openSession(source, 'source', 'worker', SOURCE_SESSION);
      await beginInSnapshot(slot.src, t.snapshot);
      slot.tgt ??= await openSession(target, 'target', 'worker', TARGET_SESSION);
      useStateSchema(t.task_id, t.state_schema);
      const members = job.members.map((m): [CopyUnit, TableRun] => [m.unit, runOf(m, t.lineage)]);
      // no signal: a stopping worker finishes its units (a second SIGINT/SIGTERM exits at once)
      const w = { taskId: t.task_id, throttle: this.throttleOf(t) };
      const out = await copyUnitsRows(w, slot.src, slot.tgt, members);
      await slot.src.query('COMMIT');
      return out;
    } catch (e) {
      dropSessions(slot);
      throw e;
    }
  }

  /** (Re)enter this worker in the task's list: a new coordinator run starts the list afresh. */
  private async register(taskId: string): Promise<void> {
    this.touched.add(taskId);
    await this.o.db.query(
      `INSERT INTO ${CONTROL_SCHEMA}.worker (worker_id, task_id, host, pid) VALUES ($1, $2, $3, $4)
       ON CONFLICT (worker_id, task_id) DO UPDATE SET heartbeat_at = now()`,
      [this.workerId, taskId, hostname(), process.pid],
    );
  }

  /** Heartbeat and CPU time (this process's, since the consumer started) of every task worked on. */
  private async beat(): Promise<void> {
    if (this.touched.size === 0) return;
    const cpu = process.cpuUsage(this.cpu0);
    await this.o.db
      .query(
        `UPDATE ${CONTROL_SCHEMA}.worker SET heartbeat_at = now(), cpu_user_us = $3, cpu_system_us = $4
          WHERE worker_id = $1 AND task_id = ANY($2)`,
        [this.workerId, [...this.touched], cpu.user, cpu.system],
      )
      .catch(() => {});
  }
}

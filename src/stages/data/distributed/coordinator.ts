/**
 * The distributed way to run a task's copy units: each queued unit becomes a job of the task's
 * queue in the control database (keyed by its unit id), and workers on any host — `pgferry
 * worker`, and this process's own local workers when it has any — run them. This process keeps
 * the snapshot open, publishes the task (URIs without passwords, snapshot, controls), and learns
 * of each landed unit from its checkpoint on the target, the one record of a unit's rows.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type PgBoss from 'pg-boss';
import { PgferryError, errorMessage } from '../../../core/errors.js';
import type { WorkerView } from '../../../core/events.js';
import { toSafeUri, type ConnSpec } from '../../../pg/connstring.js';
import { stateSchemaFor, stateTable } from '../../../state/checkpoint.js';
import { unitsOf, type CopyUnit } from '../plan/units.js';
import type { Controls } from '../copy/controls.js';
import type { ControlSession } from '../copy/ctl-session.js';
import { notDone } from '../copy/index-group.js';
import type { Stage } from '../copy/stage.js';
import type { TableRun } from '../copy/types.js';
import type { Copied } from '../copy/worker.js';
import type { SnapshotSource } from '../snapshot-source.js';
import type { Statement } from '../../../core/statement.js';
import {
  CONTROL_SCHEMA,
  ControlDb,
  DONE_CHANNEL,
  indexQueueOf,
  JOBS_SCHEMA,
  jobIdOf,
  listen,
  notify,
  QUEUED_CHANNEL,
  queueOf,
  startJobs,
  timingFromEnv,
  type JobTiming,
} from './control.js';
import { jobOf, UnitConsumer } from './consumer.js';
import { IndexDispatch } from './index-dispatch.js';

export interface DistributedCopy {
  /** The control database (job system and worker list); its password from this host's ~/.pgpass or PG*. */
  control: ConnSpec;
  /** Units this process copies at once itself, besides the workers (0: only workers). */
  localWorkers: number;
  timing?: JobTiming;
}

export interface DistributedInput {
  st: Stage;
  ctl: ControlSession;
  snapshot: SnapshotSource;
  controls: Controls;
  units: CopyUnit[];
  runs: Map<string, TableRun>;
  /** Each copied table's early statements, and the checkpoints done (to know what is left). */
  early: Map<string, Statement[]>;
  doneObj: Set<string>;
  /** A unit (each member of a batch) committed on the target; a table's last one goes to `indexes`. */
  landed(u: CopyUnit, c: Copied, indexes: IndexDispatch): void;
}

/** Fallback polling of the jobs' ends, should a notification be missed (a worker's ending job wakes us at once). */
const POLL_MS = 1000;
const WORKERS_EVERY_MS = 5000;

/** Run `units` through the job system; resolves when every one has landed. */
export async function runDistributed(d: DistributedCopy, i: DistributedInput): Promise<void> {
  const { o } = i.st;
  const timing = d.timing ?? timingFromEnv();
  const db = new ControlDb(d.control, 'coordinator');
  let jobError: Error | undefined;
  const boss = await startJobs(db, timing, (e) => {
    jobError = e;
    o.events.warn(`job system: ${errorMessage(e)}`);
  });
  const queue = queueOf(o.taskId);
  const indexQueue = indexQueueOf(o.taskId);
  let local: UnitConsumer | undefined;
  let wake = () => {};
  const listener = listen(d.control, 'coordinator', DONE_CHANNEL, (q) => {
    if (q === '' || q === queue || q === indexQueue) wake();
  });
  try {
    for (const u of i.units) {
      for (const m of unitsOf(u)) {
        const run = i.runs.get(m.table.key)!;
        if (run.lineage !== undefined && run.lineage !== i.snapshot.lineage) {
          throw new PgferryError(
            'data',
            `table ${m.table.key} has rows copied in snapshot ${run.lineage}, which is gone; workers copy in ${i.snapshot.lineage} only`,
            { hint: 'rerun this task once without --distributed: it recopies such tables, then workers can take over' },
          );
        }
      }
    }
    // A new run enqueues afresh: jobs of an earlier coordinator of this task go with their queue.
    for (const q of [queue, indexQueue]) {
      // jobs left by a coordinator that stopped mid-copy go first: the queue's partition refers to it
      // (pg-boss's delete_queue removes the queue before the partition, which fails while jobs remain)
      if (await boss.getQueue(q)) {
        await db.query(`DELETE FROM ${JOBS_SCHEMA}.job WHERE name = $1`, [q]);
        await boss.deleteQueue(q);
      }
      await boss.createQueue(q, {
        name: q,
        policy: 'standard',
        retryLimit: timing.retryLimit,
        retryDelay: timing.retryDelaySec,
        retryBackoff: true,
        expireInSeconds: timing.expireSec,
      });
    }
    const runId = randomUUID();
    await publishTask(db, i, queue, runId);
    const indexes = new IndexDispatch({
      taskId: o.taskId,
      runId,
      queue: indexQueue,
      boss,
      timing,
      events: o.events,
      earlyByTable: i.early,
      doneObj: i.doneObj,
      queued: () => void notify(db, QUEUED_CHANNEL, indexQueue).catch(() => {}),
    });
    const jobs: PgBoss.JobInsert[] = i.units.map((u) => ({
      id: jobIdOf(o.taskId, runId, u.id),
      name: queue,
      data: jobOf(o.taskId, u, i.runs),
      singletonKey: u.id,
      retryLimit: timing.retryLimit,
      retryDelay: timing.retryDelaySec,
      retryBackoff: true,
      expireInSeconds: timing.expireSec,
    }));
    for (let k = 0; k < jobs.length; k += 500) await boss.insert(jobs.slice(k, k + 500));
    await notify(db, QUEUED_CHANNEL, queue);
    o.events.info(
      `data copy distributed: ${jobs.length} units queued in ${JOBS_SCHEMA} (queue ${queue}) of ${describeControl(d.control)}; ` +
        (d.localWorkers > 0 ? `${d.localWorkers} local workers and ` : '') +
        'any `pgferry worker` on that control database copy them',
    );
    if (d.localWorkers > 0) {
      local = new UnitConsumer({
        db: new ControlDb(d.control, 'local-worker'),
        boss,
        timing,
        concurrency: d.localWorkers,
        specsFor: () => ({ source: o.source, target: o.target }),
        taskId: o.taskId,
        workerId: `${hostname()}:${process.pid}:coordinator`,
        log: (level, m) => (level === 'warn' ? o.events.warn(m) : o.events.info(m)),
      });
      local.start();
    }
    const unfollow = i.controls.onChange(() => void syncControls(db, i).catch(() => {}));
    try {
      await waitForUnits(
        db,
        boss,
        i,
        queue,
        indexes,
        (w) => (wake = w),
        () => jobError,
      );
    } finally {
      unfollow();
    }
  } finally {
    await listener.close();
    await local?.stop().catch(() => {});
    await db
      .query(`UPDATE ${CONTROL_SCHEMA}.task SET running = false, updated_at = now() WHERE task_id = $1`, [o.taskId])
      .catch(() => {});
    await emitWorkers(db, i).catch(() => {});
    await boss.stop({ graceful: false, wait: true, close: false }).catch(() => {});
    await db.close();
  }
}

function describeControl(spec: ConnSpec): string {
  return toSafeUri(spec);
}

async function publishTask(db: ControlDb, i: DistributedInput, queue: string, runId: string): Promise<void> {
  const { o } = i.st;
  const v = i.controls.values;
  await db.query(
    `INSERT INTO ${CONTROL_SCHEMA}.task AS t (task_id, queue, run_id, source_uri, target_uri, snapshot, lineage,
            state_schema, running, paused, max_rows_per_sec, max_bytes_per_sec)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, true, $9, $10, $11)
     ON CONFLICT (task_id) DO UPDATE SET queue = $2, run_id = $3, source_uri = $4, target_uri = $5, snapshot = $6,
            lineage = $7, state_schema = $8, running = true, paused = $9, max_rows_per_sec = $10,
            max_bytes_per_sec = $11, updated_at = now()`,
    [
      o.taskId,
      queue,
      runId,
      toSafeUri(o.source),
      toSafeUri(o.target),
      i.snapshot.id,
      i.snapshot.lineage,
      stateSchemaFor(o.taskId),
      v.paused,
      v.maxRowsPerSec,
      v.maxBytesPerSec,
    ],
  );
  // the worker list shows this run's workers only
  await db.query(`DELETE FROM ${CONTROL_SCHEMA}.worker WHERE task_id = $1`, [o.taskId]);
  // --index-jobs slots shared by every worker: at most that many index steps run at once
  await db.query(`DELETE FROM ${CONTROL_SCHEMA}.index_slot WHERE task_id = $1`, [o.taskId]);
  await db.query(
    `INSERT INTO ${CONTROL_SCHEMA}.index_slot (task_id, slot) SELECT $1, g FROM generate_series(1, $2::int) g`,
    [o.taskId, Math.max(1, o.indexJobs)],
  );
}

/** Pause and rate limits, for every worker of the task. */
async function syncControls(db: ControlDb, i: DistributedInput): Promise<void> {
  const v = i.controls.values;
  await db.query(
    `UPDATE ${CONTROL_SCHEMA}.task SET paused = $2, max_rows_per_sec = $3, max_bytes_per_sec = $4, updated_at = now()
      WHERE task_id = $1`,
    [i.st.o.taskId, v.paused, v.maxRowsPerSec, v.maxBytesPerSec],
  );
}

async function waitForUnits(
  db: ControlDb,
  boss: PgBoss,
  i: DistributedInput,
  queue: string,
  indexes: IndexDispatch,
  onWake: (wake: () => void) => void,
  jobError: () => Error | undefined,
): Promise<void> {
  let woken = false;
  let wakeSleep = () => {};
  onWake(() => {
    woken = true;
    wakeSleep();
  });
  const { o } = i.st;
  const outstanding = new Map<string, CopyUnit>();
  for (const u of i.units) for (const m of unitsOf(u)) outstanding.set(m.id, m);
  let lastWorkers = 0;
  let endedMissing = 0;
  while (outstanding.size > 0 || !indexes.idle) {
    if (o.signal?.aborted) throw o.signal.reason;
    if (i.st.failure.failed) throw i.st.failure.error;
    woken = false;
    const landed = await i.ctl.run('read unit checkpoints', (c) =>
      c.query<{ unit_id: string; rows: string; bytes: string }>(
        `SELECT unit_id, rows::text, bytes::text FROM ${stateTable(o.taskId, 'unit')}
          WHERE task_id = $1 AND unit_id = ANY($2)`,
        [o.taskId, [...outstanding.keys()]],
      ),
    );
    for (const r of landed.rows) {
      const u = outstanding.get(r.unit_id);
      if (!u) continue;
      outstanding.delete(r.unit_id);
      i.landed(u, { rows: Number(r.rows), bytes: Number(r.bytes) }, indexes);
    }
    await indexes.poll(db, (steps) => i.ctl.run('read index checkpoints', (c) => notDone(c, o.taskId, steps)));
    if (Date.now() - lastWorkers >= WORKERS_EVERY_MS) {
      lastWorkers = Date.now();
      await emitWorkers(db, i).catch(() => {});
      await snapshotAlive(i.snapshot);
    }
    if (outstanding.size === 0) {
      if (indexes.idle) break;
      await sleepUnlessWoken();
      continue;
    }
    const open = await boss.getQueueSize(queue, { before: 'completed' });
    if (open === 0) {
      // every job ended, some without their unit landing: failed after all retries
      const failed = await db.query<{
        output: { message?: string } | null;
        data: { members: { unit: { id: string } }[] };
      }>(`SELECT output, data FROM ${JOBS_SCHEMA}.job WHERE name = $1 AND state = 'failed' LIMIT 1`, [queue]);
      const f = failed.rows[0];
      // no job open nor failed, yet units missing: completed just now (read next round) — or, for
      // longer, lost (e.g. the queue deleted by hand)
      endedMissing = f ? endedMissing : endedMissing + 1;
      if (f || endedMissing > 10) {
        throw new PgferryError(
          'data',
          f
            ? `unit ${f.data.members[0]?.unit.id} failed on the workers after its retries: ${f.output?.message ?? 'no message'}`
            : `every job of the queue ended but ${outstanding.size} units did not land${jobError() ? ` (job system: ${errorMessage(jobError())})` : ''}`,
          { hint: 'see the workers’ output, fix the cause, and rerun the same command: units done stay done' },
        );
      }
    } else {
      endedMissing = 0;
    }
    await sleepUnlessWoken();
  }

  function sleepUnlessWoken(): Promise<void> {
    if (woken) return Promise.resolve();
    return new Promise<void>((res) => {
      const t = setTimeout(done, POLL_MS);
      wakeSleep = done;
      function done() {
        clearTimeout(t);
        wakeSleep = () => {};
        res();
      }
    });
  }
}

/**
 * The workers import the snapshot this process holds; should its session be gone, no unit can
 * be copied in it any more (a new snapshot would be another point in time than the units done).
 */
async function snapshotAlive(snapshot: SnapshotSource): Promise<void> {
  const lost = () =>
    new PgferryError(
      'data',
      `the source snapshot ${snapshot.id} was lost (its session ended) while workers copied in it`,
      {
        hint: 'rerun the same command without --distributed once: it recopies the tables copied in part, in a new snapshot',
      },
    );
  const s = snapshot.session;
  if (!s) throw lost();
  try {
    await s.query('SELECT 1');
  } catch (e) {
    throw Object.assign(lost(), { cause: e });
  }
}

/** Each worker of the task: host, pid, units done, rate, last heartbeat — as an event (status shows the latest). */
async function emitWorkers(db: ControlDb, i: DistributedInput): Promise<void> {
  const r = await db.query<{
    worker_id: string;
    host: string;
    pid: number;
    units_done: string;
    rows: string;
    bytes: string;
    busy_ms: string;
    cpu_us: string;
    age: number;
    alive_sec: number;
  }>(
    `SELECT worker_id, host, pid, units_done::text, rows::text, bytes::text, busy_ms::text,
            (cpu_user_us + cpu_system_us)::text AS cpu_us,
            extract(epoch FROM now() - heartbeat_at)::float8 AS age,
            greatest(extract(epoch FROM heartbeat_at - started_at)::float8, 0.001) AS alive_sec
       FROM ${CONTROL_SCHEMA}.worker WHERE task_id = $1 ORDER BY worker_id`,
    [i.st.o.taskId],
  );
  if (r.rows.length === 0) return;
  const workers: WorkerView[] = r.rows.map((w) => ({
    worker: w.worker_id,
    host: w.host,
    pid: w.pid,
    unitsDone: Number(w.units_done),
    rows: Number(w.rows),
    bytes: Number(w.bytes),
    rowsPerSec: Math.round(Number(w.rows) / w.alive_sec),
    cpuSec: Number(w.cpu_us) / 1e6,
    heartbeatAgeSec: Math.round(w.age * 10) / 10,
  }));
  i.st.o.events.emit({ type: 'workers', workers });
}

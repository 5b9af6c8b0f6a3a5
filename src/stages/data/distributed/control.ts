/**
 * The control database of distributed copies: the job system's tables (pg-boss, schema
 * pgferry_jobs) and pgferry's own two tables (schema pgferry_control): the running tasks (what
 * a worker needs to copy their units, and their live controls) and the workers (host, pid,
 * heartbeat, work done). Connection URIs are stored without passwords: every worker takes its
 * own from its host's ~/.pgpass or PG* environment.
 *
 * Why pg-boss (10.3.3, the last release that runs on Node 20): a job held by a worker that died
 * is failed by its expiry (expire_in, checked by the maintenance every few seconds) and retried
 * with the queue's delay and backoff, so another worker takes it over within about a minute.
 * graphile-worker releases a crashed worker's jobs only after four hours (a fixed interval in
 * its get_job). pg-boss has no heartbeat of its own: a worker keeps a long unit alive by moving
 * its job's start time forward (keepJobAlive), so the expiry can stay short.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type PgBoss from 'pg-boss';
import { connect } from '../../../pg/connect.js';
import { PgferryError } from '../../../core/errors.js';
import { toSafeUri, type ConnSpec } from '../../../pg/connstring.js';
import { kill } from '../copy/sessions.js';

export const CONTROL_SCHEMA = 'pgferry_control';
export const JOBS_SCHEMA = 'pgferry_jobs';

/** Timing of the job system: a dead worker's unit is retried within expireSec + maintenanceSec + retryDelaySec. */
export interface JobTiming {
  expireSec: number;
  maintenanceSec: number;
  retryDelaySec: number;
  retryLimit: number;
}

export const DEFAULT_TIMING: JobTiming = { expireSec: 30, maintenanceSec: 10, retryDelaySec: 5, retryLimit: 8 };

/**
 * Timing from PGFERRY_JOB_TIMING="expire,maintenance,retryDelay[,retryLimit]" in seconds (tests
 * shorten it), else the defaults. The coordinator's sets the queue's jobs; a worker's, its maintenance.
 */
export function timingFromEnv(env: NodeJS.ProcessEnv = process.env): JobTiming {
  const parts = (env.PGFERRY_JOB_TIMING ?? '').split(',').map(Number);
  if (parts.length < 3 || parts.length > 4 || parts.some((n) => !Number.isInteger(n) || n < 1)) return DEFAULT_TIMING;
  const [expireSec, maintenanceSec, retryDelaySec, retryLimit = DEFAULT_TIMING.retryLimit] = parts;
  return { expireSec, maintenanceSec, retryDelaySec, retryLimit };
}

/** The queue of one task's copy units (pg-boss names: letters, digits, underscores). */
export function queueOf(taskId: string): string {
  return `pgferry_copy_${createHash('sha256').update(taskId).digest('hex').slice(0, 16)}`;
}

/** The queue of one task's index builds, attachments and ANALYZEs (run once the table's data has landed). */
export function indexQueueOf(taskId: string): string {
  return `pgferry_index_${createHash('sha256').update(taskId).digest('hex').slice(0, 16)}`;
}

/**
 * Notification channels on the control database: a coordinator wakes its workers when it queues
 * work, a worker wakes the coordinator when a job of its task completes (both also poll, slower,
 * should a notification be missed while a session reconnects).
 */
export const QUEUED_CHANNEL = 'pgferry_queued';
export const DONE_CHANNEL = 'pgferry_done';

/** Tell listeners of `channel` (the payload: a queue name). */
export async function notify(db: ControlDb, channel: string, queue: string): Promise<void> {
  await db.query('SELECT pg_notify($1, $2)', [channel, queue]);
}

/**
 * A session of its own that LISTENs on `channel` and calls `on` for each notification; reconnects
 * after a lost session. close() ends it.
 */
export function listen(spec: ConnSpec, role: string, channel: string, on: (payload: string) => void) {
  let closed = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  const open = async () => {
    try {
      const c = await connect(spec, { label: 'control', role });
      if (closed) return void c.end().catch(() => {});
      client = c;
      c.on('notification', (n) => on(n.payload ?? ''));
      c.on('error', () => {
        kill(c);
        if (client === c) client = undefined;
        if (!closed) retry = setTimeout(() => void open(), 1000);
      });
      await c.query(`LISTEN ${channel}`);
      on('');
    } catch {
      if (!closed) retry = setTimeout(() => void open(), 1000);
    }
  };
  void open();
  return {
    close: async () => {
      closed = true;
      clearTimeout(retry);
      await client?.end().catch(() => {});
    },
  };
}

/**
 * One of the task's index slots (--index-jobs of them, shared by every worker), or undefined when
 * all are taken. A slot whose holder stopped refreshing it (a dead worker) is free after `staleSec`.
 */
export async function takeIndexSlot(
  db: ControlDb,
  taskId: string,
  holder: string,
  staleSec: number,
): Promise<number | undefined> {
  const r = await db.query<{ slot: number }>(
    `UPDATE ${CONTROL_SCHEMA}.index_slot s SET holder = $2, held_at = now()
      WHERE (s.task_id, s.slot) = (
        SELECT task_id, slot FROM ${CONTROL_SCHEMA}.index_slot
         WHERE task_id = $1 AND (holder IS NULL OR held_at < now() - make_interval(secs => $3))
         ORDER BY slot LIMIT 1 FOR UPDATE SKIP LOCKED)
      RETURNING s.slot`,
    [taskId, holder, staleSec],
  );
  return r.rows[0]?.slot;
}

export async function keepIndexSlot(db: ControlDb, taskId: string, slot: number, holder: string): Promise<void> {
  await db.query(
    `UPDATE ${CONTROL_SCHEMA}.index_slot SET held_at = now() WHERE task_id = $1 AND slot = $2 AND holder = $3`,
    [taskId, slot, holder],
  );
}

export async function freeIndexSlot(db: ControlDb, taskId: string, slot: number, holder: string): Promise<void> {
  await db.query(
    `UPDATE ${CONTROL_SCHEMA}.index_slot SET holder = NULL, held_at = NULL
      WHERE task_id = $1 AND slot = $2 AND holder = $3`,
    [taskId, slot, holder],
  );
}

/** A unit's job id: a UUID derived from the task, the coordinator run and the unit. */
export function jobIdOf(taskId: string, runId: string, unitId: string): string {
  const h = createHash('sha256').update(`${taskId}\u0000${runId}\u0000${unitId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const DDL = `
CREATE SCHEMA IF NOT EXISTS ${CONTROL_SCHEMA};
CREATE TABLE IF NOT EXISTS ${CONTROL_SCHEMA}.task (
  task_id text PRIMARY KEY,
  queue text NOT NULL,
  run_id text NOT NULL,
  source_uri text NOT NULL,
  target_uri text NOT NULL,
  snapshot text NOT NULL,
  lineage text NOT NULL,
  state_schema text NOT NULL,
  running boolean NOT NULL,
  paused boolean NOT NULL DEFAULT false,
  max_rows_per_sec float8,
  max_bytes_per_sec float8,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS ${CONTROL_SCHEMA}.worker (
  worker_id text NOT NULL,
  task_id text NOT NULL,
  host text NOT NULL,
  pid int NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now(),
  units_done int8 NOT NULL DEFAULT 0,
  rows int8 NOT NULL DEFAULT 0,
  bytes int8 NOT NULL DEFAULT 0,
  busy_ms int8 NOT NULL DEFAULT 0,
  cpu_user_us int8 NOT NULL DEFAULT 0,
  cpu_system_us int8 NOT NULL DEFAULT 0,
  PRIMARY KEY (worker_id, task_id)
);
ALTER TABLE ${CONTROL_SCHEMA}.worker ADD COLUMN IF NOT EXISTS index_done int8 NOT NULL DEFAULT 0;
CREATE TABLE IF NOT EXISTS ${CONTROL_SCHEMA}.index_slot (
  task_id text NOT NULL,
  slot int NOT NULL,
  holder text,
  held_at timestamptz,
  PRIMARY KEY (task_id, slot)
)`;

/**
 * The job system's SQL names gen_random_uuid() unqualified. The session's search_path is empty (see
 * pg/connect.ts); on PostgreSQL 12 the function comes from pgcrypto, whose schema is then the one
 * schema on the control session's path (a control database is pgferry's own, not the application's).
 */
const PGCRYPTO_PATH = `SELECT pg_catalog.set_config('search_path', pg_catalog.quote_ident(n.nspname), false)
  FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
 WHERE e.extname = 'pgcrypto' AND pg_catalog.to_regprocedure('pg_catalog.gen_random_uuid()') IS NULL`;

/** One session on the control database, reopened when lost; pg-boss runs its SQL on it too. */
export class ControlDb implements PgBoss.Db {
  private client?: Promise<pg.Client>;

  constructor(
    readonly spec: ConnSpec,
    private role: string,
  ) {}

  private async session(): Promise<pg.Client> {
    this.client ??= connect(this.spec, { label: 'control', role: this.role }).then(
      async (c) => {
        c.on('error', () => {
          this.drop(c);
        });
        await c.query(PGCRYPTO_PATH).catch((e) => {
          this.drop(c);
          throw e;
        });
        return c;
      },
      (e) => {
        this.client = undefined;
        throw e;
      },
    );
    return this.client;
  }

  private drop(c: pg.Client): void {
    kill(c);
    this.client = undefined;
  }

  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values: unknown[] = []) {
    const c = await this.session();
    try {
      return await c.query<R>(text, values);
    } catch (e) {
      if (!(e as { code?: string }).code) this.drop(c);
      throw e;
    }
  }

  executeSql(text: string, values: unknown[]): Promise<{ rows: any[] }> {
    return this.query(text, values);
  }

  /** pgferry's tables and the job system's, made or migrated by one process at a time (all may start together). */
  async ensureSchema(start: () => Promise<unknown>): Promise<void> {
    await this.refuseWithoutUuids();
    await this.query(`SELECT pg_advisory_lock(hashtext('pgferry_control'))`);
    try {
      await this.query(DDL);
      await start();
    } finally {
      await this.query(`SELECT pg_advisory_unlock(hashtext('pgferry_control'))`).catch(() => {});
    }
  }

  /**
   * The job system makes its job ids with gen_random_uuid(), built into PostgreSQL 13 and later; on
   * PostgreSQL 12 it comes with the pgcrypto extension, which only a superuser can create there.
   */
  private async refuseWithoutUuids(): Promise<void> {
    const r = await this.query<{ ok: boolean; version: string }>(
      `SELECT to_regproc('gen_random_uuid') IS NOT NULL AS ok, current_setting('server_version') AS version`,
    );
    if (r.rows[0].ok) return;
    throw new PgferryError(
      'usage',
      `the control database ${toSafeUri(this.spec)} runs PostgreSQL ${r.rows[0].version}, which has no ` +
        'gen_random_uuid(): the job system makes its job ids with it',
      {
        hint:
          'use a control database on PostgreSQL 13 or newer, or have a superuser run CREATE EXTENSION pgcrypto in ' +
          'that database first',
      },
    );
  }

  async close(): Promise<void> {
    const p = this.client;
    this.client = undefined;
    if (p) await p.then((c) => c.end()).catch(() => {});
  }
}

/** The job system on the control database; `supervise`: this process takes its turn expiring dead workers' jobs. */
export async function startJobs(db: ControlDb, timing: JobTiming, onError: (e: Error) => void): Promise<PgBoss> {
  // loaded here, not at start-up: only a distributed copy or a worker needs the job system
  const { default: Boss } = await import('pg-boss');
  const boss = new Boss({
    db,
    schema: JOBS_SCHEMA,
    supervise: true,
    schedule: false,
    maintenanceIntervalSeconds: timing.maintenanceSec,
  });
  boss.on('error', onError);
  await db.ensureSchema(() => boss.start());
  return boss;
}

/**
 * Move an active job's start forward so its expiry does not fail it while the unit is still
 * copying. A worker that dies stops doing this; the maintenance then fails and retries the job.
 */
export async function keepJobAlive(db: ControlDb, queue: string, jobId: string): Promise<boolean> {
  const r = await db.query(
    `UPDATE ${JOBS_SCHEMA}.job SET started_on = now() WHERE name = $1 AND id = $2 AND state = 'active'`,
    [queue, jobId],
  );
  return (r.rowCount ?? 0) > 0;
}

/**
 * One task, one runner: a session-level advisory lock on the target, keyed by the task id and
 * held by the runner's main target session for its whole life. A second run of the task — from
 * another directory or host — is refused at once, and `finish` refuses while the lock is held.
 * The run's lease in its task store (task-record.ts) keeps out runs that share that store; this lock
 * guards the target itself, against runs of the task that use another store (state dir, host).
 */
import type pg from 'pg';
import { PgferryError } from '../core/errors.js';

/** The two int4 keys of the lock, as SQL over parameter $1 (the task id). */
const KEYS = `hashtext('pgferry task'), hashtext($1)`;

export interface LockHolder {
  pid: number;
  applicationName: string | null;
  client: string | null;
  user: string | null;
  since: string | null;
}

/** Take the task's lock in this session, or return false when another session holds it. */
export async function tryTaskLock(c: pg.Client, taskId: string): Promise<boolean> {
  const r = await c.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${KEYS}) AS ok`, [taskId]);
  return r.rows[0].ok === true;
}

/** The session holding the task's lock (other than this one), as far as pg_stat_activity shows it. */
export async function taskLockHolder(c: pg.Client, taskId: string): Promise<LockHolder | undefined> {
  type Row = { pid: number; app: string | null; client: string | null; usename: string | null; since: string | null };
  const r = await c.query<Row>(
    `SELECT l.pid, a.application_name AS app, coalesce(a.client_hostname, host(a.client_addr)) AS client,
            a.usename::text AS usename,
            to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC' AS since
       FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND (l.classid, l.objid, l.objsubid) = (hashtext('pgferry task')::oid, hashtext($1)::oid, 2)
        AND l.pid <> pg_backend_pid()
      LIMIT 1`,
    [taskId],
  );
  const h = r.rows[0];
  if (!h) return undefined;
  return { pid: h.pid, applicationName: h.app, client: h.client, user: h.usename, since: h.since };
}

export function describeHolder(h: LockHolder): string {
  const parts = [`target backend pid ${h.pid}`];
  if (h.applicationName) parts.push(`application_name "${h.applicationName}"`);
  if (h.client) parts.push(`from ${h.client}`);
  if (h.user) parts.push(`user ${h.user}`);
  if (h.since) parts.push(`connected since ${h.since}`);
  return parts.join(', ');
}

/** A run refused because another session holds the task's lock on the target. */
export class TaskLockHeld extends PgferryError {
  constructor(
    taskId: string,
    readonly holder: LockHolder | undefined,
  ) {
    super(
      'state',
      `task "${taskId}" is already running against this target` +
        (holder ? ` (${describeHolder(holder)})` : ' (the session holding its lock is not visible to this user)'),
      {
        hint: 'wait for that run to end, or stop it (it resumes later); one task is run by one pgferry process at a time',
      },
    );
  }
}

/** Take the lock or refuse (exit 7) naming the holder. */
export async function takeTaskLock(c: pg.Client, taskId: string): Promise<void> {
  if (await tryTaskLock(c, taskId)) return;
  throw new TaskLockHeld(taskId, await taskLockHolder(c, taskId));
}

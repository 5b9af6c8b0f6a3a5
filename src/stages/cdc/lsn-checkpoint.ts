/**
 * Where an incremental task's apply stands, in the `cdc` table of the task's checkpoint schema:
 * its slot and publication, its state (copy → stream → stopped) and the end LSN of the last
 * source transaction applied — written in the same target transaction as that transaction's changes.
 */
import type pg from 'pg';
import { stateTable } from '../../state/checkpoint.js';
import { formatLsn, type Lsn, parseLsn } from './lsn.js';

export type CaptureState = 'copy' | 'stream' | 'stopped';

export interface CaptureRow {
  slot: string;
  publication: string;
  state: CaptureState;
  startLsn: Lsn | null;
  appliedLsn: Lsn | null;
  appliedCommit: Date | null;
  appliedAt: Date | null;
  appliedTxns: number;
  stopLsn: Lsn | null;
  lag: Record<string, unknown>;
}

interface RawCaptureRow {
  slot: string;
  publication: string;
  state: CaptureState;
  start_lsn: string | null;
  applied_lsn: string | null;
  applied_commit: Date | null;
  applied_at: Date | null;
  applied_txns: string;
  stop_lsn: string | null;
  lag: Record<string, unknown>;
}

const lsnOrNull = (s: string | null): Lsn | null => (s === null ? null : parseLsn(s));

export async function readCapture(c: pg.Client, taskId: string): Promise<CaptureRow | undefined> {
  const r = await c.query<RawCaptureRow>(
    `SELECT slot, publication, state, start_lsn::text, applied_lsn::text, applied_commit, applied_at,
            applied_txns::text, stop_lsn::text, lag FROM ${stateTable(taskId, 'cdc')} WHERE task_id = $1`,
    [taskId],
  );
  const row = r.rows[0];
  if (!row) return undefined;
  return {
    slot: row.slot,
    publication: row.publication,
    state: row.state,
    startLsn: lsnOrNull(row.start_lsn),
    appliedLsn: lsnOrNull(row.applied_lsn),
    appliedCommit: row.applied_commit,
    appliedAt: row.applied_at,
    appliedTxns: Number(row.applied_txns),
    stopLsn: lsnOrNull(row.stop_lsn),
    lag: row.lag,
  };
}

/** The task's capture row in state `copy`, with its slot and publication names (a new start). */
export async function startCapture(c: pg.Client, taskId: string, slot: string, publication: string): Promise<void> {
  await c.query(
    `INSERT INTO ${stateTable(taskId, 'cdc')} (task_id, slot, publication) VALUES ($1, $2, $3)
     ON CONFLICT (task_id) DO UPDATE SET state = 'copy', start_lsn = NULL, applied_lsn = NULL, applied_commit = NULL,
       applied_at = NULL, applied_txns = 0, stop_lsn = NULL, lag = '{}'`,
    [taskId, slot, publication],
  );
}

/** The slot's consistent point: the copy's snapshot shows every transaction committed before it. */
export async function recordStartLsn(c: pg.Client, taskId: string, lsn: Lsn): Promise<void> {
  await c.query(
    `UPDATE ${stateTable(taskId, 'cdc')} SET start_lsn = $2::pg_lsn, applied_lsn = $2::pg_lsn WHERE task_id = $1`,
    [taskId, formatLsn(lsn)],
  );
}

export async function setCaptureState(c: pg.Client, taskId: string, state: CaptureState): Promise<void> {
  await c.query(`UPDATE ${stateTable(taskId, 'cdc')} SET state = $2 WHERE task_id = $1`, [taskId, state]);
}

/** What recordApplied learns in the same round trip. */
export interface Recorded {
  /** The stop position `finish` asked for, if any. */
  stop: Lsn | null;
  /** The target's WAL insert position now: past the commit record of every earlier batch. */
  walInsert: Lsn;
  /** The target's WAL flushed to disk: batches whose commit lies before it are durable. */
  walFlush: Lsn;
}

/** Inside the apply's target transaction: the source transactions up to `lsn` are applied. */
export async function recordApplied(
  c: pg.Client,
  taskId: string,
  lsn: Lsn,
  commitTime: Date,
  txns: number,
): Promise<Recorded> {
  const r = await c.query<{ stop: string | null; ins: string; fl: string }>(
    `UPDATE ${stateTable(taskId, 'cdc')} SET applied_lsn = $2::pg_lsn, applied_commit = $3,
       applied_at = clock_timestamp(),
       applied_txns = applied_txns + $4 WHERE task_id = $1
     RETURNING stop_lsn::text AS stop, pg_current_wal_insert_lsn()::text AS ins, pg_current_wal_flush_lsn()::text AS fl`,
    [taskId, formatLsn(lsn), commitTime, txns],
  );
  const row = r.rows[0];
  return {
    stop: lsnOrNull(row?.stop ?? null),
    walInsert: row ? parseLsn(row.ins) : 0n,
    walFlush: row ? parseLsn(row.fl) : 0n,
  };
}

/** The target's WAL positions outside a batch (see Recorded). */
export async function targetWal(c: pg.Client): Promise<{ walInsert: Lsn; walFlush: Lsn }> {
  const r = await c.query<{ ins: string; fl: string }>(
    'SELECT pg_current_wal_insert_lsn()::text AS ins, pg_current_wal_flush_lsn()::text AS fl',
  );
  return { walInsert: parseLsn(r.rows[0].ins), walFlush: parseLsn(r.rows[0].fl) };
}

/** The channel on which `finish` wakes the running apply (payload: the task id). */
export const STOP_CHANNEL = 'pgferry_cdc_stop';

/** Asked by `finish`: apply up to `lsn` (the source's WAL position when writes stopped), then end. */
export async function requestStop(c: pg.Client, taskId: string, lsn: Lsn): Promise<boolean> {
  const r = await c.query(`UPDATE ${stateTable(taskId, 'cdc')} SET stop_lsn = $2::pg_lsn WHERE task_id = $1`, [
    taskId,
    formatLsn(lsn),
  ]);
  // The apply LISTENs between batches: it reads the stop position at once instead of at its next tick.
  await c.query('SELECT pg_notify($1, $2)', [STOP_CHANNEL, taskId]);
  return (r.rowCount ?? 0) > 0;
}

export async function readStopLsn(c: pg.Client, taskId: string): Promise<Lsn | null> {
  const r = await c.query<{ stop: string | null }>(
    `SELECT stop_lsn::text AS stop FROM ${stateTable(taskId, 'cdc')} WHERE task_id = $1`,
    [taskId],
  );
  return lsnOrNull(r.rows[0]?.stop ?? null);
}

export async function recordLag(c: pg.Client, taskId: string, lag: Record<string, unknown>): Promise<void> {
  await c.query(`UPDATE ${stateTable(taskId, 'cdc')} SET lag = $2 WHERE task_id = $1`, [taskId, JSON.stringify(lag)]);
}

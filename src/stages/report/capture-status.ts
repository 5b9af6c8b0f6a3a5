/**
 * An incremental task's change capture as `status` shows it, from the `cdc` checkpoint row on
 * the target: where the apply stands, its lag and the WAL its slot keeps (sampled by the running
 * apply), and a slot left behind by a task that no longer streams, with the command that drops it.
 */
import type pg from 'pg';
import { qualify } from '../../core/ident.js';
import { fmtBytes } from '../../core/size.js';

export interface CaptureStatus {
  slot: string;
  publication: string;
  state: string;
  appliedLsn: string | null;
  appliedCommit: string | null;
  appliedTxns: number;
  lag: {
    lagBytes?: number;
    lagSec?: number;
    retainedBytes?: number | null;
    txnsPerSec?: number;
    changesPerSec?: number;
  };
}

interface RawCaptureStatusRow {
  slot: string;
  publication: string;
  state: string;
  applied_lsn: string | null;
  applied_commit: Date | null;
  applied_txns: string;
  lag: CaptureStatus['lag'];
}

/** The task's capture row; undefined for a task that is not incremental (or a layout without the table). */
export async function readCaptureStatus(
  c: pg.Client,
  task: string,
  schema: string,
): Promise<CaptureStatus | undefined> {
  const t = qualify(schema, 'cdc');
  const exists = await c.query<{ rel: string | null }>('SELECT to_regclass($1)::text AS rel', [t]);
  if (exists.rows[0].rel === null) return undefined;
  const r = await c.query<RawCaptureStatusRow>(
    `SELECT slot, publication, state, applied_lsn::text, applied_commit, applied_txns::text, lag
       FROM ${t} WHERE task_id = $1`,
    [task],
  );
  const row = r.rows[0];
  if (!row) return undefined;
  return {
    slot: row.slot,
    publication: row.publication,
    state: row.state,
    appliedLsn: row.applied_lsn,
    appliedCommit: row.applied_commit ? new Date(row.applied_commit).toISOString() : null,
    appliedTxns: Number(row.applied_txns),
    lag: row.lag ?? {},
  };
}

/** Status lines: the apply, and the slot when no run streams from it. */
export function captureLines(c: CaptureStatus, task: string, running: boolean): string[] {
  const L: string[] = [];
  const lag = c.lag;
  const parts = [`incremental: ${c.state}`, `slot ${c.slot}`];
  if (c.appliedLsn)
    parts.push(`applied up to ${c.appliedLsn}${c.appliedCommit ? ` (source commit ${c.appliedCommit})` : ''}`);
  parts.push(`${c.appliedTxns.toLocaleString('en-US')} transaction(s) applied`);
  L.push(`  ${parts.join(', ')}`);
  if (lag.lagBytes !== undefined) {
    const kept =
      lag.retainedBytes === null || lag.retainedBytes === undefined ? 'unknown' : fmtBytes(lag.retainedBytes);
    L.push(
      `  lag: ${fmtBytes(lag.lagBytes)}, ${lag.lagSec ?? 0} s; slot keeps ${kept} of WAL on the source; ` +
        `${lag.txnsPerSec ?? 0} txn/s, ${lag.changesPerSec ?? 0} changes/s`,
    );
  }
  if (!running) {
    L.push(
      `  slot ${c.slot} and publication ${c.publication} stay on the source while no run streams from them (the slot ` +
        'keeps WAL): continue with the same migrate command, or drop them with: ' +
        `pgferry finish ${task} -s SOURCE -t TARGET`,
    );
  }
  return L;
}

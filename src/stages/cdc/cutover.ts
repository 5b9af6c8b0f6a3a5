/**
 * The source side of an incremental task's cutover (src/engine/cutover.ts): the position writes
 * stopped at, dropping the task's slot and publication, and taking back a stop request.
 */
import type pg from 'pg';
import { stateTable } from '../../state/checkpoint.js';
import { type Lsn, parseLsn } from './lsn.js';
import { dropPublication } from './publication.js';
import { dropSlot } from './slot.js';

/**
 * The source's current WAL insert position: once writes have stopped, everything to replicate lies
 * before it. (Not pg_current_wal_lsn, the write position: with synchronous_commit = off a commit
 * already acknowledged to its client may still lie beyond it.)
 */
export async function currentLsn(src: pg.Client): Promise<Lsn> {
  const r = await src.query<{ l: string }>('SELECT pg_current_wal_insert_lsn()::text AS l');
  return parseLsn(r.rows[0].l);
}

/** Drop the slot (waiting for a walsender that is ending to let go of it) and the publication. */
export async function dropCapture(src: pg.Client, slot: string, publication: string): Promise<{ slot: boolean }> {
  const dropped = await dropSlot(src, slot);
  await dropPublication(src, publication);
  return { slot: dropped };
}

/** A cutover that failed: the apply goes on streaming instead of stopping at the position it was given. */
export async function cancelStop(tgt: pg.Client, taskId: string): Promise<void> {
  await tgt.query(`UPDATE ${stateTable(taskId, 'cdc')} SET stop_lsn = NULL WHERE task_id = $1`, [taskId]);
}

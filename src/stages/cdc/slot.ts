/**
 * The task's logical replication slot (pgoutput) on the source. Created on a replication
 * session with an exported snapshot: the copy reads that snapshot, and the stream starts at the
 * slot's consistent point, so every transaction is in exactly one of the two.
 * https://www.postgresql.org/docs/current/protocol-replication.html (CREATE_REPLICATION_SLOT)
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { isPgError, PgferryError } from '../../core/errors.js';
import { quoteIdent } from '../../core/ident.js';
import { connect } from '../../pg/connect.js';
import type { ConnSpec } from '../../pg/connstring.js';
import { type Lsn, parseLsn } from './lsn.js';

/** A walsender session in database mode (replication commands and plain SQL). */
export function openReplicationSession(spec: ConnSpec, role: string): Promise<pg.Client> {
  return connect(spec, { label: 'source', role, replication: 'database' });
}

export interface CreatedSlot {
  consistentPoint: Lsn;
  /** Valid while `session` runs no other command and stays open. */
  snapshot: string;
}

/** Create the slot on replication session `repl` (which must then stay idle while the snapshot is used). */
export async function createSlot(repl: pg.Client, slot: string, sourceVersion: number): Promise<CreatedSlot> {
  // PostgreSQL 15 added the option list; 12–14 know only the keyword form.
  const how = sourceVersion >= 150000 ? "(SNAPSHOT 'export')" : 'EXPORT_SNAPSHOT';
  const r = await repl.query<{ consistent_point: string; snapshot_name: string }>(
    `CREATE_REPLICATION_SLOT ${quoteIdent(slot)} LOGICAL pgoutput ${how}`,
  );
  const row = r.rows[0];
  return { consistentPoint: parseLsn(row.consistent_point), snapshot: row.snapshot_name };
}

export interface SlotInfo {
  active: boolean;
  restartLsn: Lsn | null;
  confirmedFlushLsn: Lsn | null;
  /** WAL the slot keeps on the source (current position − restart_lsn). */
  retainedBytes: number | null;
}

export async function slotInfo(c: pg.Client, slot: string): Promise<SlotInfo | undefined> {
  const r = await c.query<{
    active: boolean;
    restart: string | null;
    confirmed: string | null;
    retained: string | null;
  }>(
    `SELECT active, restart_lsn::text AS restart, confirmed_flush_lsn::text AS confirmed,
            pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::text AS retained
       FROM pg_catalog.pg_replication_slots WHERE slot_name = $1`,
    [slot],
  );
  const row = r.rows[0];
  if (!row) return undefined;
  return {
    active: row.active,
    restartLsn: row.restart ? parseLsn(row.restart) : null,
    confirmedFlushLsn: row.confirmed ? parseLsn(row.confirmed) : null,
    retainedBytes: row.retained === null ? null : Number(row.retained),
  };
}

/**
 * Drop the slot when it exists. A slot still held by the walsender of a process that just died
 * is released when the server notices the lost connection: wait for that (up to `waitSec`).
 */
export async function dropSlot(c: pg.Client, slot: string, waitSec = 30): Promise<boolean> {
  const until = Date.now() + waitSec * 1000;
  for (;;) {
    try {
      const r = await c.query(
        `SELECT pg_catalog.pg_drop_replication_slot(slot_name)
           FROM pg_catalog.pg_replication_slots WHERE slot_name = $1`,
        [slot],
      );
      return (r.rowCount ?? 0) > 0;
    } catch (e) {
      if (!isPgError(e) || e.code !== '55006' || Date.now() > until) throw slotInUse(e, slot);
      await sleep(200);
    }
  }
}

function slotInUse(e: unknown, slot: string): unknown {
  if (!isPgError(e) || e.code !== '55006') return e;
  return new PgferryError('state', `replication slot ${slot} is in use by another session`, {
    hint:
      'stop the pgferry run that streams from it, or end its session: SELECT pg_terminate_backend(active_pid) ' +
      `FROM pg_replication_slots WHERE slot_name = '${slot}'`,
    cause: e,
  });
}

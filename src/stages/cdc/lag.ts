/**
 * How far the target is behind the source: bytes of WAL between the source's current position
 * and what the target holds, seconds since the commit of the last applied transaction while
 * changes are pending, WAL the slot keeps on the source, and the apply rate.
 */
import type pg from 'pg';
import { formatLsn, laterLsn, type Lsn, parseLsn } from './lsn.js';
import type { ApplyProgress } from './apply.js';

export interface CaptureLag {
  appliedLsn: string;
  /** WAL bytes written on the source after what the target holds (0 when caught up). */
  lagBytes: number;
  /** Age of the last applied source commit while changes are pending; 0 when caught up. */
  lagSec: number;
  /** WAL the slot keeps on the source (null: slot gone). */
  retainedBytes: number | null;
  txnsPerSec: number;
  changesPerSec: number;
}

interface RawLagRow {
  current: string;
  confirmed: string | null;
  retained: string | null;
}

export class LagMeter {
  private last?: { at: number; txns: number; changes: number };

  constructor(private slot: string) {}

  async sample(src: pg.Client, p: ApplyProgress): Promise<CaptureLag> {
    const r = await src.query<RawLagRow>(
      `SELECT pg_current_wal_lsn()::text AS current,
              (SELECT confirmed_flush_lsn::text FROM pg_catalog.pg_replication_slots WHERE slot_name = $1) AS confirmed,
              (SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::text
                 FROM pg_catalog.pg_replication_slots WHERE slot_name = $1) AS retained`,
      [this.slot],
    );
    const row = r.rows[0];
    const current = parseLsn(row.current);
    // The slot's confirmed position also moves on when the stream is idle (nothing to apply).
    const confirmed = row.confirmed ? parseLsn(row.confirmed) : 0n;
    const held: Lsn = laterLsn(confirmed, p.applied);
    const lagBytes = current > held ? Number(current - held) : 0;
    const now = Date.now();
    const lagSec = lagBytes > 0 && p.commitTime ? Math.max(0, (now - p.commitTime.getTime()) / 1000) : 0;
    const prev = this.last ?? { at: now, txns: p.txns, changes: p.changes };
    const dt = Math.max(0.001, (now - prev.at) / 1000);
    this.last = { at: now, txns: p.txns, changes: p.changes };
    return {
      appliedLsn: formatLsn(p.applied),
      lagBytes,
      lagSec: Math.round(lagSec * 10) / 10,
      retainedBytes: row.retained === null ? null : Number(row.retained),
      txnsPerSec: Math.round((p.txns - prev.txns) / dt),
      changesPerSec: Math.round((p.changes - prev.changes) / dt),
    };
  }
}

/**
 * What the slot still holds for the selected tables: the source transactions with changes that
 * the slot has not been told are applied, read without consuming them
 * (pg_logical_slot_peek_binary_changes, the REPLICATION attribute suffices). The cutover uses it
 * to know whether anything is left to apply, and whether writes reached the source after the
 * moment they stopped (a transaction committed after that position).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { isPgError } from '../../core/errors.js';
import { qualify, quoteIdent } from '../../core/ident.js';
import type { Lsn } from './lsn.js';
import { decodePgoutput } from './pgoutput/decode.js';

export interface PendingWrites {
  /** Transactions with at least one change of a published table. */
  txns: number;
  changes: number;
  /** The tables written, schema.name quoted. */
  tables: string[];
}

interface RawPeekRow {
  data: Buffer;
}

/** Peek, waiting (up to `waitSec`) for a walsender that is ending to let go of the slot. */
async function peek(c: pg.Client, slot: string, publication: string, waitSec: number): Promise<RawPeekRow[]> {
  const until = Date.now() + waitSec * 1000;
  for (;;) {
    try {
      const r = await c.query<RawPeekRow>(
        `SELECT data FROM pg_catalog.pg_logical_slot_peek_binary_changes($1, NULL, NULL,
           'proto_version', '1', 'publication_names', $2)`,
        [slot, quoteIdent(publication)],
      );
      return r.rows;
    } catch (e) {
      if (!isPgError(e) || e.code !== '55006' || Date.now() > until) throw e;
      await sleep(200);
    }
  }
}

/**
 * Changes in the slot of transactions whose commit lies at or after `from` and before `to` (either
 * bound open when undefined); undefined when the slot does not exist.
 */
export async function pendingWrites(
  c: pg.Client,
  slot: string,
  publication: string,
  from?: Lsn,
  to?: Lsn,
  waitSec = 30,
): Promise<PendingWrites | undefined> {
  const exists = await c.query('SELECT 1 FROM pg_catalog.pg_replication_slots WHERE slot_name = $1', [slot]);
  if (!exists.rowCount) return undefined;
  const names = new Map<number, string>();
  const written = new Set<number>();
  let txns = 0;
  let changes = 0;
  let counting = false;
  let inTxn = 0;
  for (const row of await peek(c, slot, publication, waitSec)) {
    const m = decodePgoutput(row.data);
    if (m.tag === 'begin') {
      counting = (from === undefined || m.finalLsn >= from) && (to === undefined || m.finalLsn < to);
      inTxn = 0;
    } else if (m.tag === 'commit') {
      if (inTxn) txns++;
    } else if (m.tag === 'relation') {
      names.set(m.oid, qualify(m.schema, m.name));
    } else if (counting && (m.tag === 'insert' || m.tag === 'update' || m.tag === 'delete')) {
      changes++;
      inTxn++;
      written.add(m.relation);
    } else if (counting && m.tag === 'truncate') {
      changes++;
      inTxn++;
      for (const r of m.relations) written.add(r);
    }
  }
  const tables = [...written].map((oid) => names.get(oid) ?? `relation ${oid}`).sort();
  return { txns, changes, tables };
}

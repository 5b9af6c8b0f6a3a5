/**
 * `pgferry cutover --reverse`: the rollback path. At the cutover, while the target equals the source
 * and neither is written, change capture is set up the other way: a publication of the migrated
 * tables and a logical slot on the target, and on the old source the capture row of a new task
 * `<task>-reverse` streaming from that slot's consistent point (no copy: both sides are equal there).
 * Rolling back is then `pgferry cutover <task>-reverse`, which applies what the target received.
 * Needs wal_level = logical on the target and the REPLICATION attribute for the target account
 * (which owns the migrated tables, as the publication requires).
 */
import type pg from 'pg';
import { PgferryError } from '../../core/errors.js';
import { qualify, quoteIdent } from '../../core/ident.js';
import type { ConnSpec } from '../../pg/connstring.js';
import { serverVersionNum } from '../../pg/connect.js';
import { ensureCheckpoints } from '../../state/checkpoint.js';
import type { CopyTable } from '../data/plan/types.js';
import { type Lsn, parseLsn } from './lsn.js';
import { readCapture, recordStartLsn, setCaptureState, startCapture } from './lsn-checkpoint.js';
import { captureNames } from './names.js';
import { createPublication } from './publication.js';
import { openReplicationSession } from './slot.js';

export const reverseTaskId = (taskId: string): string => `${taskId}-reverse`;

/** The slot without a snapshot (nothing is copied), or the consistent point of the one already there. */
async function reverseSlot(c: pg.Client, spec: ConnSpec, slot: string): Promise<Lsn> {
  const have = await c.query<{ l: string | null }>(
    'SELECT confirmed_flush_lsn::text AS l FROM pg_catalog.pg_replication_slots WHERE slot_name = $1',
    [slot],
  );
  if (have.rows[0]?.l) return parseLsn(have.rows[0].l);
  const how = (await serverVersionNum(c)) >= 150000 ? "(SNAPSHOT 'nothing')" : 'NOEXPORT_SNAPSHOT';
  const repl = await openReplicationSession(spec, 'reverse');
  try {
    const r = await repl.query<{ consistent_point: string }>(
      `CREATE_REPLICATION_SLOT ${quoteIdent(slot)} LOGICAL pgoutput ${how}`,
    );
    return parseLsn(r.rows[0].consistent_point);
  } finally {
    await repl.end().catch(() => {});
  }
}

/**
 * Tables of the new primary without a replica identity (no primary key, none chosen) get REPLICA
 * IDENTITY FULL, as the source needed for the forward capture: once published, a table without one
 * refuses UPDATE and DELETE. Returns them.
 */
async function replicaIdentities(c: pg.Client, tables: CopyTable[]): Promise<string[]> {
  const r = await c.query<{ t: string }>(
    `SELECT format('%I.%I', n.nspname, k.relname) AS t
       FROM unnest($1::text[]) x JOIN pg_catalog.pg_class k ON k.oid = to_regclass(x)
       JOIN pg_catalog.pg_namespace n ON n.oid = k.relnamespace
      WHERE k.relkind = 'r' AND (k.relreplident = 'n' OR (k.relreplident = 'd' AND NOT EXISTS (
              SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = k.oid AND i.indisprimary)))`,
    [tables.map((t) => qualify(t.source.schema, t.source.name))],
  );
  for (const row of r.rows) await c.query(`ALTER TABLE ${row.t} REPLICA IDENTITY FULL`);
  return r.rows.map((row) => row.t);
}

/**
 * Set up the reverse capture (idempotent): `newPrimary` is the old target (its tables `tables`, named
 * as there), `oldSource` receives the reverse task's capture row. Returns the reverse task id.
 */
export async function setupReverse(
  newPrimary: pg.Client,
  newPrimarySpec: ConnSpec,
  oldSource: pg.Client,
  taskId: string,
  tables: CopyTable[],
  safeNewPrimary: string,
): Promise<{ id: string; identityFull: string[] }> {
  const id = reverseTaskId(taskId);
  const { slot, publication } = captureNames(id);
  const wal = await newPrimary.query<{ w: string }>(`SELECT current_setting('wal_level') AS w`);
  if (wal.rows[0].w !== 'logical') {
    throw new PgferryError('usage', `--reverse needs wal_level = logical on the target (it is ${wal.rows[0].w})`, {
      hint: 'set wal_level = logical on the target and restart it, or cut over without --reverse',
    });
  }
  const full = await replicaIdentities(newPrimary, tables);
  await createPublication(newPrimary, publication, tables, await serverVersionNum(newPrimary));
  const lsn = await reverseSlot(newPrimary, newPrimarySpec, slot);
  await ensureCheckpoints(oldSource, id, safeNewPrimary);
  const row = await readCapture(oldSource, id);
  if (row?.state !== 'stream' || row.slot !== slot) {
    await startCapture(oldSource, id, slot, publication);
    await recordStartLsn(oldSource, id, lsn);
    await setCaptureState(oldSource, id, 'stream');
  }
  return { id, identityFull: full };
}

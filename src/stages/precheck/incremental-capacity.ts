/**
 * incremental.capacity: a free replication slot and a free WAL sender on the source. A run that
 * created the task's slot before its precheck (PrecheckOptions.heldSlot) counts neither its slot
 * nor the WAL sender holding it as taken.
 */
import { incrementalCheck } from './incremental-skip.js';
import { failed, passed } from './types.js';

interface RawCapacityRow {
  max_slots: string;
  slots: string;
  max_senders: string;
  senders: string;
}

export const incrementalCapacity = incrementalCheck({
  id: 'incremental.capacity',
  title: 'Free replication slots and WAL senders',
  level: 'error',
  needs: ['source'],
  async run(ctx) {
    const held = ctx.heldSlot ?? '';
    const r = await ctx.source!.query<RawCapacityRow>(
      `SELECT current_setting('max_replication_slots') AS max_slots,
              (SELECT count(*) FROM pg_catalog.pg_replication_slots WHERE slot_name <> $1)::text AS slots,
              current_setting('max_wal_senders') AS max_senders,
              (SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE backend_type = 'walsender')::text AS senders`,
      [held],
    );
    const row = r.rows[0];
    if (held) row.senders = String(Math.max(0, Number(row.senders) - 1));
    const freeSlots = Number(row.max_slots) - Number(row.slots);
    const freeSenders = Number(row.max_senders) - Number(row.senders);
    const short: string[] = [];
    if (freeSlots < 1) short.push(`replication slots: ${row.slots} of max_replication_slots = ${row.max_slots} in use`);
    if (freeSenders < 1) short.push(`WAL senders: ${row.senders} of max_wal_senders = ${row.max_senders} in use`);
    if (!short.length) return passed(`${freeSlots} free replication slot(s), ${freeSenders} free WAL sender(s)`);
    return failed(
      'the source has no room for the task’s replication slot and stream',
      short,
      'raise max_replication_slots / max_wal_senders on the source (restart needed), or drop unused slots: ' +
        'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE NOT active AND slot_name = …',
    );
  },
});

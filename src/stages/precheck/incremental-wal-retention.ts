/**
 * incremental.wal-retention: the slot keeps WAL on the source until the target has applied it —
 * without bound when max_slot_wal_keep_size is -1; a bound may instead invalidate the slot.
 */
import { incrementalCheck } from './incremental-skip.js';
import { passed, warning } from './types.js';

export const incrementalWalRetention = incrementalCheck({
  id: 'incremental.wal-retention',
  title: 'WAL kept by the replication slot',
  level: 'warning',
  needs: ['source'],
  async run(ctx) {
    if (ctx.sourceVersion < 130000) {
      return warning('the slot keeps WAL on the source without bound until the target has applied it', [], watch);
    }
    const r = await ctx.source!.query<{ v: string }>("SELECT current_setting('max_slot_wal_keep_size') AS v");
    const v = r.rows[0].v;
    if (v === '-1')
      return warning('max_slot_wal_keep_size = -1: the slot keeps WAL on the source without bound', [], watch);
    return passed(
      `max_slot_wal_keep_size = ${v}: a target further behind than that loses its slot and must start again`,
    );
  },
});

const watch =
  'watch the source disk while the task runs (`pgferry status` shows the WAL the slot keeps) ' +
  'and run `pgferry finish` ' +
  'when done: it drops the slot';

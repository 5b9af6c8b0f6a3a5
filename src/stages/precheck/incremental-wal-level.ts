/** incremental.wal-level: logical decoding needs wal_level = logical on the source. */
import { incrementalCheck } from './incremental-skip.js';
import { failed, passed } from './types.js';

export const incrementalWalLevel = incrementalCheck({
  id: 'incremental.wal-level',
  title: 'Source WAL level for change capture',
  level: 'error',
  needs: ['source'],
  async run(ctx) {
    const r = await ctx.source!.query<{ v: string }>("SELECT current_setting('wal_level') AS v");
    const level = r.rows[0].v;
    if (level === 'logical') return passed('wal_level is logical');
    return failed(
      `wal_level is ${level} on the source; change capture needs logical`,
      [],
      'on the source: ALTER SYSTEM SET wal_level = logical; then restart the server (managed services: the ' +
        'logical replication parameter, e.g. rds.logical_replication = 1)',
    );
  },
});

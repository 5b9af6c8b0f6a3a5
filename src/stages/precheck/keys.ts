/** tables.no-key: selected tables without a primary key or unique NOT NULL key. */
import { passed, plural, warning, type CheckDef } from './types.js';

export const tablesNoKey: CheckDef = {
  id: 'tables.no-key',
  title: 'Tables without a key',
  level: 'warning',
  needs: ['model'],
  async run(ctx) {
    const noKey = ctx.model!.tables.filter((t) => t.kind === 'r' && !t.hasKey).map((t) => t.key);
    if (!noKey.length) return passed('every selected table has a primary key or unique NOT NULL key');
    return warning(
      `${plural(noKey.length, 'table')} without a primary key or unique NOT NULL key`,
      noKey,
      'a full migration stays exact (copy units are checkpointed), but duplicates cannot be told apart and incremental replication would need REPLICA IDENTITY FULL; add a primary key if you can',
    );
  },
};

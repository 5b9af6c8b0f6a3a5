/** incremental.large-objects: logical replication does not carry large objects. */
import { copiesLargeObjects } from '../../core/selection.js';
import { incrementalCheck } from './incremental-skip.js';
import { failed, passed } from './types.js';

export const incrementalLargeObjects = incrementalCheck({
  id: 'incremental.large-objects',
  title: 'Large objects with change capture',
  level: 'error',
  needs: ['source'],
  async run(ctx) {
    if (!copiesLargeObjects(ctx.task)) return passed('large objects are not selected');
    const r = await ctx.source!.query('SELECT 1 FROM pg_catalog.pg_largeobject_metadata LIMIT 1');
    if (!r.rowCount) return passed('the source has no large objects');
    return failed(
      'the source has large objects, which logical replication does not carry: they cannot be migrated incrementally',
      [],
      'migrate without --incremental, or select schemas or tables (large objects then stay behind)',
    );
  },
});

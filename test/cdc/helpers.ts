/** A PostgreSQL 15 cluster with wal_level=logical, and the steps every change-capture test takes. */
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { withClient } from '../helpers/compare.js';
import { requestStop } from '../../src/stages/cdc/lsn-checkpoint.js';
import { parseLsn } from '../../src/stages/cdc/lsn.js';
import { useStateSchema } from '../../src/state/checkpoint.js';

export function logicalCluster(): Promise<Cluster> {
  return startCluster({
    version: 15,
    settings: { wal_level: 'logical', max_replication_slots: 10, max_wal_senders: 10 },
  });
}

/** What `finish` does first: ask the apply to stop once it holds everything the source wrote so far. */
export async function stopAt(sourceUrl: string, targetUrl: string, taskId: string): Promise<void> {
  const lsn = await withClient(
    sourceUrl,
    async (c) => (await c.query('SELECT pg_current_wal_insert_lsn()::text AS l')).rows[0].l,
  );
  useStateSchema(taskId, undefined);
  await withClient(targetUrl, (c) => requestStop(c, taskId, parseLsn(lsn)));
}

/** The items of an incremental task (change capture), in report order; other tasks pass them with nothing to check. */
import { incrementalApplyRole } from './incremental-apply-role.js';
import { incrementalCapacity } from './incremental-capacity.js';
import { incrementalDdl } from './incremental-ddl.js';
import { incrementalLargeObjects } from './incremental-large-objects.js';
import { incrementalPublication } from './incremental-publication.js';
import { incrementalReplicaIdentity } from './incremental-replica-identity.js';
import { incrementalReplicationRole } from './incremental-replication-role.js';
import { incrementalRowFilters } from './incremental-row-filters.js';
import { incrementalWalLevel } from './incremental-wal-level.js';
import { incrementalWalRetention } from './incremental-wal-retention.js';
import type { CheckDef } from './types.js';

export const INCREMENTAL_CHECKS: readonly CheckDef[] = [
  incrementalWalLevel,
  incrementalCapacity,
  incrementalReplicationRole,
  incrementalPublication,
  incrementalReplicaIdentity,
  incrementalRowFilters,
  incrementalLargeObjects,
  incrementalWalRetention,
  incrementalDdl,
  incrementalApplyRole,
];

/**
 * The replication slot and publication of an incremental task. Slot names allow only lower-case
 * letters, digits and underscores (63 at most); a hash of the task id keeps two tasks apart.
 */
import { createHash } from 'node:crypto';

export function captureNames(taskId: string): { slot: string; publication: string } {
  const h = createHash('sha256').update(taskId).digest('hex').slice(0, 8);
  const clean = taskId
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .slice(0, 40);
  const name = `pgferry_${clean}_${h}`;
  return { slot: name, publication: name };
}

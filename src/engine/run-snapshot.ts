/**
 * The run's source snapshot: opened before the precheck and the schema phase, so the catalog
 * read (which the precheck judges and the schema phase builds from), the copy list, the unit
 * plan, the sequences and every copy worker see the source at one point in time. A rerun re-imports the earlier run's snapshot when it still
 * exists (its lineage goes on), else takes a new one; the schema phase then reads the catalog
 * in it, like every other part of the run.
 */
import type pg from 'pg';
import type { ConnSpec } from '../pg/connstring.js';
import { withRetry, type RetryOptions } from '../pg/retry.js';
import { isPgError } from '../core/errors.js';
import { checkpointSchemaExists, stateSchemaFor } from '../state/checkpoint.js';
import { ExportedSnapshot, type SnapshotSource } from '../stages/data/snapshot-source.js';
import { readSnapshotRecord, type SnapshotRecord } from '../stages/data/copy/planstore.js';
import { isLostSnapshot } from '../stages/data/copy/sessions.js';
import type { MainSession } from './mainsession.js';

/** The snapshot an earlier run of the task recorded on the target, when there is one (read only). */
export async function earlierSnapshot(c: pg.Client, taskId: string): Promise<SnapshotRecord | null> {
  if (!(await checkpointSchemaExists(c, stateSchemaFor(taskId)))) return null;
  try {
    return await readSnapshotRecord(c, taskId);
  } catch (e) {
    // A checkpoint layout this run brings up to date later: the earlier snapshot is simply not reused.
    if (isPgError(e)) return null;
    throw e;
  }
}

/** Open the run's snapshot, re-importing `previous` when it still exists. */
export async function openRunSnapshot(
  source: ConnSpec,
  previous: SnapshotRecord | null,
  retry: Omit<RetryOptions, 'what'>,
): Promise<SnapshotSource> {
  const snapshot = new ExportedSnapshot(source);
  await withRetry({ ...retry, what: 'export source snapshot' }, () => snapshot.open(previous));
  return snapshot;
}

/** The earlier run's snapshot, read through the runner's target session (none when the target is not reachable now). */
export async function earlierSnapshotOf(tgt: MainSession, taskId: string): Promise<SnapshotRecord | null> {
  try {
    return await earlierSnapshot(await tgt.client(), taskId);
  } catch {
    return null;
  }
}

/**
 * Run `fn` on the runner's source session inside the snapshot (a READ ONLY transaction, ended
 * afterwards). A lost snapshot is renewed by the import, which is then tried again.
 */
export function readInSnapshot<T>(
  src: MainSession,
  snapshot: SnapshotSource,
  what: string,
  fn: (c: pg.Client) => Promise<T>,
): Promise<T> {
  return src.run(what, async (c) => {
    for (let attempt = 1; ; attempt++) {
      try {
        await snapshot.importInto(c);
      } catch (e) {
        if (isLostSnapshot(e) && attempt < 3) continue;
        throw e;
      }
      try {
        return await fn(c);
      } finally {
        await c.query('COMMIT').catch(() => {});
      }
    }
  });
}

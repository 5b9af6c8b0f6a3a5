/**
 * A rerun of an incremental task whose copy is done: partitions created or attached on the source
 * since the copy are not the copy's. Their rows come through the change stream only (routed by the
 * target's root, or published as the apply adds them), so this run neither checks, creates nor
 * copies them: copying them now would apply their streamed changes a second time. The apply's
 * stop said to create them on the target (see src/stages/cdc/new-partitions.ts).
 *
 * What the earlier copy did is read from the target before the run's catalog read; the partitions
 * are taken from that one read (its facts), before its DDL is generated.
 */
import { isPgError } from '../core/errors.js';
import type { EventBus } from '../core/events.js';
import { type Selection, tableKey } from '../core/selection.js';
import { checkpointSchemaExists, doneUnits, stateSchemaFor } from '../state/checkpoint.js';
import { readCapture } from '../stages/cdc/lsn-checkpoint.js';
import { partitionSelected } from '../stages/data/plan/tables.js';
import { readFacts, type CatalogFacts } from '../stages/schema/catalog/facts.js';
import type { MainSession } from './mainsession.js';

/** The tables (keys) an incremental task's earlier copy did, when that copy is done; undefined otherwise. */
export async function copiedBefore(r: { taskId: string; tgt: MainSession }): Promise<Set<string> | undefined> {
  const done = await r.tgt.run('read the capture state', async (c) => {
    if (!(await checkpointSchemaExists(c, stateSchemaFor(r.taskId)))) return undefined;
    try {
      const row = await readCapture(c, r.taskId);
      return row && row.state !== 'copy' ? await doneUnits(c, r.taskId) : undefined;
    } catch (e) {
      if (isPgError(e) && e.code === '42P01') return undefined;
      throw e;
    }
  });
  return done && new Set([...done.values()].map((u) => u.table_name));
}

/** Keys of the selected partitions in the run's catalog facts that the earlier copy did not have. */
function latePartitions(facts: CatalogFacts, sel: Selection, copied: Set<string>): string[] {
  return facts.relations
    .filter(
      (x) =>
        x.kind === 'r' &&
        x.isPartition &&
        partitionSelected(sel, x.schema, x.name, x.root) &&
        !copied.has(tableKey(x.schema, x.name)),
    )
    .map((x) => tableKey(x.schema, x.name));
}

/** The run's state these steps use: its selection, what the earlier copy did, its events. */
export interface LateRun {
  sel: Selection;
  copied: Set<string>;
  o: { events: EventBus };
}

/** In the run's catalog read, before its DDL: leave the late partitions to the change stream. */
export function leaveOutLatePartitions(facts: CatalogFacts, r: LateRun): void {
  const late = latePartitions(facts, r.sel, r.copied);
  if (!late.length) return;
  r.sel.leaveOut(late);
  r.o.events.info(
    `partition(s) created on the source after the copy: ${late.join(', ')} — not copied; their rows come with ` +
      'the change stream',
  );
}

/**
 * The run's first catalog read failed and the precheck reads the catalog for itself: the late
 * partitions from a facts read of their own (one try: a failure is the precheck's to explain), so
 * that the precheck leaves them out too.
 */
export async function leaveOutLateUnread(r: LateRun & { src: MainSession }): Promise<void> {
  const facts = await r.src
    .client()
    .then((c) => readFacts(c))
    .catch(() => undefined);
  if (facts) leaveOutLatePartitions(facts, r);
}

/**
 * A rerun of an incremental task whose copy is done: partitions created or attached on the source
 * since the copy are not the copy's. Their rows come through the change stream only (routed by the
 * target's root, or published as the apply adds them), so this run neither checks, creates nor
 * copies them: copying them now would apply their streamed changes a second time. The apply's
 * stop said to create them on the target (see src/stages/cdc/new-partitions.ts).
 */
import { isPgError } from '../core/errors.js';
import type { EventBus } from '../core/events.js';
import type { Selection } from '../core/selection.js';
import { checkpointSchemaExists, doneUnits, stateSchemaFor } from '../state/checkpoint.js';
import { readCapture } from '../stages/cdc/lsn-checkpoint.js';
import { copyTablesOf } from '../stages/data/plan/tables.js';
import { readFacts } from '../stages/schema/catalog/facts.js';
import type { MainSession } from './mainsession.js';

export interface LateRun {
  taskId: string;
  sel: Selection;
  src: MainSession;
  tgt: MainSession;
  o: { events: EventBus };
}

/** Keys of the selected partitions the earlier copy did not have, when that copy is done. */
async function latePartitions(r: LateRun): Promise<string[]> {
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
  if (!done) return [];
  const copied = new Set([...done.values()].map((u) => u.table_name));
  return r.src.run('list tables', async (c) => {
    const facts = await readFacts(c);
    const partitions = new Set(
      facts.relations.filter((x) => x.kind === 'r' && x.isPartition).map((x) => `${x.schema}\u0000${x.name}`),
    );
    return copyTablesOf(facts, r.sel)
      .filter((t) => partitions.has(`${t.source.schema}\u0000${t.source.name}`) && !copied.has(t.key))
      .map((t) => t.key);
  });
}

/** Before the precheck of an incremental task's rerun: leave the late partitions to the change stream. */
export async function leaveOutLatePartitions(r: LateRun): Promise<void> {
  const late = await latePartitions(r);
  if (!late.length) return;
  r.sel.leaveOut(late);
  r.o.events.info(
    `partition(s) created on the source after the copy: ${late.join(', ')} — not copied; their rows come with ` +
      'the change stream',
  );
}

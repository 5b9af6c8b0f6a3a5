/**
 * Before a distributed run queues its units: a table with units done in a snapshot that is gone (an
 * earlier run of the task, stopped or failed, held another snapshot) cannot be finished by the
 * workers in this one — ctid ranges do not carry over. As the local copy does, such a table is
 * emptied with its unit checkpoints (one transaction, copy/recopy.ts) and all its units are queued.
 */
import type { CopyUnit } from '../plan/units.js';
import { unitsOf } from '../plan/units.js';
import type { ControlSession } from '../copy/ctl-session.js';
import type { Progress } from '../copy/progress.js';
import { recopyWhole, resetTableTarget } from '../copy/recopy.js';
import type { Stage } from '../copy/stage.js';
import type { TableRun } from '../copy/types.js';

export interface StaleInput {
  st: Stage;
  ctl: ControlSession;
  /** The snapshot lineage the workers copy in. */
  lineage: string;
  units: CopyUnit[];
  runs: Map<string, TableRun>;
  progress: Progress;
  /** How many copied tables write into each target table (qualified name). */
  targetCount: Map<string, number>;
}

/** The units to queue: `units`, and every done unit of a table recopied whole. */
export async function recopyStale(i: StaleInput): Promise<CopyUnit[]> {
  const { o } = i.st;
  const stale = new Set<TableRun>();
  for (const u of i.units) {
    for (const m of unitsOf(u)) {
      const run = i.runs.get(m.table.key)!;
      if (run.lineage !== undefined && run.lineage !== i.lineage) stale.add(run);
    }
  }
  const redo: CopyUnit[] = [];
  const deps = { taskId: o.taskId, events: o.events, progress: i.progress, targetCount: i.targetCount };
  for (const run of stale) {
    const t = run.table;
    redo.push(
      ...(await recopyWhole(deps, run, () => i.ctl.run(`recopy ${t.key}`, (c) => resetTableTarget(c, o.taskId, t)))),
    );
    run.lineage = undefined;
  }
  return [...redo, ...i.units];
}

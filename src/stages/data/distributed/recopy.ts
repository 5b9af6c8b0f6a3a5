/**
 * Before a distributed run queues its units: a table with units done in a snapshot that is gone (an
 * earlier run of the task, stopped or failed, held another snapshot) cannot be finished by the
 * workers in this one — ctid ranges do not carry over. As the local copy does, such a table is
 * emptied with its unit checkpoints (one transaction, copy/recopy.ts) and all its units are queued.
 */
import { PgferryError } from '../../../core/errors.js';
import { qualify } from '../../../core/ident.js';
import { stateTable } from '../../../state/checkpoint.js';
import type { CopyUnit } from '../plan/units.js';
import { unitsOf } from '../plan/units.js';
import type { ControlSession } from '../copy/ctl-session.js';
import type { Progress } from '../copy/progress.js';
import { resetTableTarget } from '../copy/recopy.js';
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
  for (const run of stale) {
    const t = run.table;
    const name = qualify(t.target.schema, t.target.name);
    if (i.targetCount.get(name) !== 1) {
      throw new PgferryError(
        'data',
        `table ${t.key}: its copied units come from a snapshot that is gone, and its ` +
          `target ${name} also receives rows of other tables, so it cannot be emptied and recopied`,
        {
          hint: `empty the target table, delete its rows from ${stateTable(o.taskId, 'unit')} on the target, and rerun`,
        },
      );
    }
    const how = await i.ctl.run(`recopy ${t.key}`, (c) => resetTableTarget(c, o.taskId, t));
    const done = run.units.filter((u) => run.doneIds.has(u.id));
    o.events.emit({
      type: 'table-recopy',
      table: t.key,
      units: run.units.length,
      discardedUnits: done.length,
      rows: run.rows,
    });
    o.events.warn(
      `table ${t.key} is recopied whole (${how === 'truncate' ? 'truncated' : 'emptied'}): ` +
        `${done.length} of its ${run.units.length} units came from an earlier snapshot, and ctid ranges do not carry over`,
    );
    i.progress.add(-run.rows, -run.bytes);
    run.rows = run.bytes = run.skipped = 0;
    run.doneIds.clear();
    run.left += done.length;
    run.lineage = undefined;
    run.recopied = true;
    redo.push(...done);
  }
  return [...redo, ...i.units];
}

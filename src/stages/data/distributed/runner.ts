/**
 * The distributed UnitRunner: the run's pending units go to workers; what lands counts as the pump's
 * units would, and a table's index builds go to the workers too (index-dispatch.ts).
 */
import type { CopyInput } from '../copy/copy-tables.js';
import type { IndexBuilder } from '../copy/index-builder.js';
import type { UnitRunner } from '../copy/unit-runner.js';
import { tableStart, unitDone, type UnitRunDeps } from '../copy/unit-run.js';
import { runDistributed, type DistributedCopy } from './coordinator.js';
import { recopyStale } from './recopy.js';

export function distributedUnits(dc: DistributedCopy, i: CopyInput, d: UnitRunDeps): UnitRunner {
  const t0 = Date.now();
  return {
    run: async () =>
      runDistributed(dc, {
        st: i.st,
        ctl: i.ctl,
        snapshot: i.snapshot,
        controls: i.controls,
        // tables half-copied in a snapshot that is gone start over, as in a local copy
        units: await recopyStale({
          st: i.st,
          ctl: i.ctl,
          lineage: i.snapshot.lineage,
          units: i.plan.pending,
          runs: d.runs,
          progress: d.progress,
          targetCount: i.targetCount,
        }),
        runs: d.runs,
        early: i.early.byTable,
        doneObj: i.doneObj,
        landed(u, c, indexes) {
          const run = d.runs.get(u.table.key)!;
          run.lineage ??= i.snapshot.lineage;
          tableStart(d, run);
          // the table's index builds become jobs for the workers, not the local index sessions
          unitDone({ ...d, indexes: indexes as unknown as IndexBuilder }, u, run, c, Date.now() - t0);
        },
      }),
  };
}

/** The distributed UnitRunner: the run's pending units go to workers; what lands counts as the pump's units would. */
import type { CopyInput } from '../copy/copy-tables.js';
import type { UnitRunner } from '../copy/unit-runner.js';
import { tableStart, unitDone, type UnitRunDeps } from '../copy/unit-run.js';
import { runDistributed, type DistributedCopy } from './coordinator.js';

export function distributedUnits(dc: DistributedCopy, i: CopyInput, d: UnitRunDeps): UnitRunner {
  const t0 = Date.now();
  return {
    run: () =>
      runDistributed(dc, {
        st: i.st,
        ctl: i.ctl,
        snapshot: i.snapshot,
        controls: i.controls,
        units: i.plan.pending,
        runs: d.runs,
        landed(u, c) {
          const run = d.runs.get(u.table.key)!;
          run.lineage ??= i.snapshot.lineage;
          tableStart(d, run);
          unitDone(d, u, run, c, Date.now() - t0);
        },
      }),
  };
}

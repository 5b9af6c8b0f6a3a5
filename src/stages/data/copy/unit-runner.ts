/**
 * How the queued units of a run are run: by this process's pump on its own session pairs
 * (local), or by workers on any host through a control database (src/stages/data/distributed/).
 * Either way each unit commits its rows with its checkpoint, and `landed` work reaches the
 * run's progress, events and index builds through unitDone.
 */
import type { UnitPump } from './queue.js';

export interface UnitRunner {
  /** Resolves when every queued unit has landed; rejects on the run's failure. */
  run(): Promise<void>;
}

export const localUnits = (pump: UnitPump): UnitRunner => ({ run: () => pump.run() });

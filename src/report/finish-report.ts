/**
 * Glue for `pgferry migrate`: collect the run's events, then write report.json/report.md into
 * the state dir and return the stdout summary (or, on failure, write what is known).
 */
import type { EventBus } from '../task/events.js';
import { StateDir } from '../task/state.js';
import { errorMessage } from '../errors.js';
import type { VerifyReport } from '../verify/types.js';
import { buildReport, collectEvents, renderSummary, writeReport, type NotMigrated, type Report } from './index.js';

/** The parts of the runner's MigrateResult the report needs. */
export interface RunOutcome {
  taskId: string;
  state: StateDir;
  verify?: VerifyReport;
  warnings?: string[];
  notMigrated?: NotMigrated[];
}

interface TaskJson {
  source?: string;
  target?: string;
}

export interface FinishReport {
  /** Write the report of a completed run; returns the summary for stdout. */
  complete(result: RunOutcome): string;
  /** Write the report of a failed run (into `state`, else the state dir found); returns the summary or undefined. */
  fail(e: unknown, state?: StateDir): string | undefined;
  /** The last report built. */
  readonly report: Report | undefined;
}

export function finishReport(events: EventBus, opts: { stateDir?: string } = {}): FinishReport {
  const col = collectEvents(events);
  let last: Report | undefined;
  const build = (taskId: string, state: StateDir, extra: { verify?: VerifyReport; warnings?: string[]; notMigrated?: NotMigrated[]; error?: string }) => {
    col.stop();
    let info: TaskJson | undefined;
    try {
      info = state.readJson<TaskJson>('task.json');
    } catch {
      info = undefined;
    }
    const start = col.events.find((e) => e.type === 'task-start');
    const report = buildReport({
      taskId,
      source: info?.source ?? (start && start.type === 'task-start' ? start.source : ''),
      target: info?.target ?? (start && start.type === 'task-start' ? start.target : ''),
      events: col.events,
      verify: extra.verify ?? null,
      notMigrated: extra.notMigrated,
      warnings: extra.warnings,
      error: extra.error,
    });
    last = report;
    const paths = writeReport(state, report);
    return renderSummary(report, paths);
  };
  return {
    complete(result) {
      return build(result.taskId, result.state, { verify: result.verify, warnings: result.warnings, notMigrated: result.notMigrated });
    },
    fail(e, known) {
      col.stop();
      const start = col.events.find((x) => x.type === 'task-start');
      if (!start || start.type !== 'task-start') return undefined;
      const state = known ?? new StateDir(StateDir.rootFor(opts.stateDir), start.task);
      if (!state.exists()) return undefined;
      try {
        return build(start.task, state, { error: errorMessage(e) });
      } catch {
        return undefined;
      }
    },
    get report() {
      return last;
    },
  };
}

/**
 * Glue for `pgferry migrate`: collect the run's events, then write report.json/report.md into
 * the state dir and return the stdout summary (or, on failure, write what is known). Totals
 * come from the target's checkpoints, so a resumed task reports everything it did.
 */
import type { EventBus } from '../../core/events.js';
import { StateDir } from '../../state/state-dir.js';
import { errorMessage } from '../../core/errors.js';
import type { Redactor } from '../../core/redact.js';
import type { VerifyReport } from '../verify/types.js';
import { readTaskCheckpoints } from './checkpoint-access.js';
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
  config?: Record<string, unknown>;
}

interface Extra {
  verify?: VerifyReport;
  warnings?: string[];
  notMigrated?: NotMigrated[];
  error?: string;
}

export interface FinishReport {
  /** Write the report of a completed run; returns the summary for stdout. */
  complete(result: RunOutcome): Promise<string>;
  /** Write the report of a failed run (into `state`, else the state dir found); returns the summary or undefined. */
  fail(e: unknown, state?: StateDir): Promise<string | undefined>;
  /** The last report built. */
  readonly report: Report | undefined;
}

export interface FinishReportOptions {
  stateDir?: string;
  /** The target as given (with its password, if any), to read the checkpoints. */
  target?: string;
  /** The task's checkpoint schema (default pgferry). */
  stateSchema?: string;
  /** The task's password redactor (default: the command line's). */
  redactor?: Redactor;
}

function readTaskJson(state: StateDir): TaskJson | undefined {
  try {
    return state.readJson<TaskJson>('task.json');
  } catch {
    return undefined;
  }
}

export function finishReport(events: EventBus, opts: FinishReportOptions = {}): FinishReport {
  const col = collectEvents(events);
  let last: Report | undefined;
  const build = async (taskId: string, state: StateDir, extra: Extra) => {
    col.stop();
    const info = readTaskJson(state);
    const start = col.events.find((e) => e.type === 'task-start');
    const targetText = opts.target ?? info?.target;
    const cp = targetText
      ? await readTaskCheckpoints(targetText, taskId, opts.target !== undefined, opts.stateSchema, opts.redactor)
      : undefined;
    const report = buildReport({
      taskId,
      source: info?.source ?? (start && start.type === 'task-start' ? start.source : ''),
      target: info?.target ?? (start && start.type === 'task-start' ? start.target : ''),
      events: col.events,
      verify: extra.verify ?? null,
      notMigrated: extra.notMigrated,
      warnings: extra.warnings,
      error: extra.error,
      checkpoints: cp?.totals,
      checkpointNote: cp?.error,
      config: info?.config,
    });
    last = report;
    const paths = writeReport(state, report);
    return renderSummary(report, paths);
  };
  return {
    complete(result) {
      const { verify, warnings, notMigrated } = result;
      return build(result.taskId, result.state, { verify, warnings, notMigrated });
    },
    async fail(e, known) {
      col.stop();
      const start = col.events.find((x) => x.type === 'task-start');
      if (start?.type !== 'task-start') return undefined;
      const state = known ?? new StateDir(StateDir.rootFor(opts.stateDir), start.task);
      if (!state.exists()) return undefined;
      try {
        return await build(start.task, state, { error: errorMessage(e) });
      } catch {
        return undefined;
      }
    },
    get report() {
      return last;
    },
  };
}

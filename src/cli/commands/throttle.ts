import { Command, Option } from 'commander';
import { PgferryError } from '../../core/errors.js';
import { listTasks } from '../../stages/report/status.js';
import { readControls, StateDir, type Controls } from '../../state/state-dir.js';
import { fmtBytes } from '../../core/size.js';
import { intArg, rateArg } from '../args.js';
import { out } from '../output.js';
import { controlsOfRecord, writeStoreControls } from '../../state/store-controls.js';
import { storeOption, withStore } from '../store-option.js';

interface ThrottleFlags {
  /** 0: no limit */
  rows?: number;
  bytes?: number;
  jobs?: number;
  pause?: boolean;
  resume?: boolean;
  stateDir?: string;
  store?: string;
  json?: boolean;
}

/** The limits as people read them: "rows/s 20,000, bytes/s 50.0 MB, jobs 2". */
export function describeLimits(c: Controls): string {
  const rows = c.maxRowsPerSec ? c.maxRowsPerSec.toLocaleString('en-US') : 'unlimited';
  const bytes = c.maxBytesPerSec ? fmtBytes(c.maxBytesPerSec) : 'unlimited';
  return `rows/s ${rows}, bytes/s ${bytes}${c.jobs ? `, jobs ${c.jobs}` : ''}${c.paused ? ', paused' : ''}`;
}

/** The task's state dir; an unknown task is an error (a typo must not create a new one). */
function existingTask(task: string, stateDir: string | undefined): StateDir {
  const root = StateDir.rootFor(stateDir);
  const state = new StateDir(root, task);
  if (!state.exists() || !state.readJson('task.json')) {
    const known = listTasks(root);
    throw new PgferryError('state', `no task "${task}" in ${root}`, {
      hint: known.length
        ? `known tasks: ${known.join(', ')}`
        : 'give the name (and --state-dir) of a task started by `pgferry migrate`',
    });
  }
  return state;
}

export function throttleCommand(): Command {
  return new Command('throttle')
    .description(
      'change the rate limits or job count of a running (or the next) data copy of a task; takes effect within a second',
    )
    .argument('<task>', 'task name (its state directory .pgferry/<task>)')
    .option('--rows <n>', 'max rows per second over all workers, e.g. 20000, 20k, or "off"', rateArg('rows'))
    .option('--bytes <size>', 'max bytes per second over all workers, e.g. 50MB, 1GiB, or "off"', rateArg('bytes'))
    .option('--jobs <n>', 'number of parallel copy workers (1..64)', intArg(1, 64))
    .addOption(
      new Option('--state-dir <dir>', 'root of the task state directories (default ./.pgferry)').env(
        'PGFERRY_STATE_DIR',
      ),
    )
    .option('--pause', 'start no new copy unit (units under way finish and commit); --resume to go on')
    .option('--resume', 'start copy units again after --pause')
    .option('--json', 'print the limits in effect as one JSON document')
    .addOption(storeOption("read and write the task's live limits"))
    .action(async (task: string, o: ThrottleFlags) => {
      if (o.pause && o.resume)
        throw new PgferryError('usage', 'throttle: --pause and --resume together', {
          hint: 'give one of them',
        });
      if (o.store) return throttleInStore(o.store, task, o);
      const state = existingTask(task, o.stateDir);
      const cur: Controls = readControls(state) ?? {};
      const running = state.runningPid();
      const next = changed(cur, o);
      if (!next) {
        if (o.json) return out(JSON.stringify({ task, ...cur, running: running !== undefined }));
        out(`${task}: ${describeLimits(cur)}${running ? ` (running, pid ${running})` : ' (not running)'}`);
        return;
      }
      state.writeJson('control.json', next);
      const when = running
        ? ` (applied to pid ${running} within a second)`
        : ' (task not running: applies when it next copies data)';
      out(`${task}: ${describeLimits(next)}${when}`);
    });
}

/** The controls after the flags' changes; undefined when no flag changes anything. */
function changed(cur: Controls, o: ThrottleFlags): Controls | undefined {
  const changes = o.rows !== undefined || o.bytes !== undefined || o.jobs !== undefined || o.pause || o.resume;
  if (!changes) return undefined;
  const next: Controls = { ...cur };
  if (o.rows !== undefined) next.maxRowsPerSec = o.rows || null;
  if (o.bytes !== undefined) next.maxBytesPerSec = o.bytes || null;
  if (o.jobs !== undefined) next.jobs = o.jobs;
  if (o.pause || o.resume) next.paused = o.pause === true;
  return next;
}

/** throttle --store: the controls live in the task's record; the run holding its lease polls them. */
function throttleInStore(url: string, task: string, o: ThrottleFlags): Promise<void> {
  return withStore(url, async (store, where) => {
    const rec = await store.get(task);
    if (!rec) {
      const known = (await store.list()).map((r) => r.id);
      throw new PgferryError('state', `no task "${task}" in the ${where}`, {
        hint: known.length
          ? `known tasks: ${known.join(', ')}`
          : 'give the name of a task started with `pgferry migrate --store` or through `pgferry serve --store`',
      });
    }
    const cur: Controls = controlsOfRecord(rec) ?? {};
    const held = await store.currentLease(task);
    const next = changed(cur, o);
    if (!next) {
      if (o.json) return out(JSON.stringify({ task, ...cur, running: held !== undefined }));
      out(`${task}: ${describeLimits(cur)}${held ? ` (running: ${held.holder})` : ' (not running)'}`);
      return;
    }
    await writeStoreControls(store, task, next);
    const when = held
      ? ` (applied by ${held.holder} within a second)`
      : ' (task not running: applies when it next copies data)';
    out(`${task}: ${describeLimits(next)}${when}`);
  });
}

import { Command, Option } from 'commander';
import { PgferryError } from '../../core/errors.js';
import { listTasks, readStatus, renderStatus, type TaskStatus } from '../../stages/report/status.js';
import { StateDir } from '../../state/state-dir.js';
import { EXIT } from '../exit.js';
import { out } from '../output.js';
import { readStoreStatus } from '../../stages/report/store-status.js';
import { storeOption, withStore } from '../store-option.js';

/**
 * 0 for a running or finished task; 1 for one that failed or stopped before finishing; 5 when
 * its verification found differences; 3 when the --target given cannot be read.
 */
export function statusExitCode(s: TaskStatus, targetGiven: boolean): number {
  if (s.running) return EXIT.ok;
  if (s.checkpoint?.status === 'mismatch') return EXIT.verify;
  if (s.status === 'failed' || s.status === 'interrupted' || (s.ended && !s.ended.ok)) return EXIT.failed;
  if (targetGiven && s.checkpointConnectFailed) return EXIT.connect;
  return EXIT.ok;
}

interface StatusFlags {
  stateDir?: string;
  store?: string;
  target?: string;
  checkpoints?: boolean;
  json?: boolean;
}

export function statusCommand(): Command {
  return new Command('status')
    .description(
      "show a task's state: running or not, last phase, limits in effect, tables and rows done (committed " +
        'checkpoints on the target), errors. Safe while the task runs. Exit 0 running or done, 1 failed or stopped, ' +
        '5 verification differences, 3 --target unreadable',
    )
    .argument('[task]', 'task name (default: every task in the state dir)')
    .addOption(
      new Option('--state-dir <dir>', 'root of task state directories (default ./.pgferry)').env('PGFERRY_STATE_DIR'),
    )
    .option(
      '-t, --target <conninfo>',
      "target database, to read its checkpoints (default: the task's target, password from PGPASSWORD or ~/.pgpass)",
    )
    .option('--no-checkpoints', 'do not connect to the target')
    .option('--json', 'print one JSON document')
    .addOption(storeOption("read the task's record, lease and live limits"))
    .action(async (name: string | undefined, o: StatusFlags) => {
      const statuses = o.store ? await storeStatuses(o.store, name, o) : await dirStatuses(name, o);
      if (o.json) out(JSON.stringify(name ? statuses[0] : statuses, null, 2));
      else out(statuses.map(renderStatus).join('\n\n'));
      const codes = statuses.map((s) => statusExitCode(s, o.target !== undefined));
      process.exitCode = codes.find((c) => c !== EXIT.ok) ?? EXIT.ok;
    });
}

/** The statuses of the task named (else every task) in a shared task store. */
function storeStatuses(url: string, name: string | undefined, o: StatusFlags): Promise<TaskStatus[]> {
  return withStore(url, async (store, where) => {
    const names = name ? [name] : (await store.list()).map((r) => r.id);
    if (names.length === 0) {
      throw new PgferryError('state', `no tasks in the ${where}`, {
        hint: 'give the --store used by `pgferry migrate --store` or `pgferry serve --store`',
      });
    }
    const statuses: TaskStatus[] = [];
    for (const t of names) {
      statuses.push(await readStoreStatus(store, t, { target: o.target, checkpoints: o.checkpoints, where }));
    }
    return statuses;
  });
}

/** The statuses of the task named (else every task) in the state dir. */
async function dirStatuses(name: string | undefined, o: StatusFlags): Promise<TaskStatus[]> {
  const root = StateDir.rootFor(o.stateDir);
  const names = name ? [name] : listTasks(root);
  if (names.length === 0) {
    throw new PgferryError('state', `no tasks in ${root}`, {
      hint: 'give the task name and --state-dir used by `pgferry migrate`',
    });
  }
  const statuses = [];
  for (const t of names) {
    const state = new StateDir(root, t);
    if (!state.exists()) {
      throw new PgferryError('state', `no state for task "${t}" in ${root}`, {
        hint: `known tasks: ${listTasks(root).join(', ') || 'none'}`,
      });
    }
    statuses.push(await readStatus(state, { target: o.target, checkpoints: o.checkpoints }));
  }
  return statuses;
}

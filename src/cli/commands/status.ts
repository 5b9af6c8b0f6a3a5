import { Command, Option } from 'commander';
import { PgferryError } from '../../errors.js';
import { listTasks, readStatus, renderStatus } from '../../report/status.js';
import { StateDir } from '../../task/state.js';
import { EXIT } from '../exit.js';
import { out } from '../output.js';

export function statusCommand(): Command {
  return new Command('status')
    .description('show a task\'s state: running or not, last phase, per-table progress, and the checkpoints on the target. Safe while the task runs')
    .argument('[task]', 'task name (default: every task in the state dir)')
    .addOption(new Option('--state-dir <dir>', 'root of task state directories (default ./.pgferry)')
      .env('PGFERRY_STATE_DIR'))
    .option('-t, --target <conninfo>', 'target database, to read its checkpoints (default: the target recorded in the task)')
    .option('--no-checkpoints', 'do not connect to the target')
    .option('--json', 'print one JSON document')
    .action(async (name: string | undefined, o: { stateDir?: string; target?: string; checkpoints?: boolean; json?: boolean }) => {
      const root = StateDir.rootFor(o.stateDir);
      const names = name ? [name] : listTasks(root);
      if (names.length === 0) {
        throw new PgferryError('state', `no tasks in ${root}`, { hint: 'give the task name and --state-dir used by `pgferry migrate`' });
      }
      const statuses = [];
      for (const t of names) {
        const state = new StateDir(root, t);
        if (!state.exists()) throw new PgferryError('state', `no state for task "${t}" in ${root}`, { hint: `known tasks: ${listTasks(root).join(', ') || 'none'}` });
        statuses.push(await readStatus(state, { target: o.target, checkpoints: o.checkpoints }));
      }
      if (o.json) out(JSON.stringify(name ? statuses[0] : statuses, null, 2));
      else out(statuses.map(renderStatus).join('\n\n'));
      process.exitCode = EXIT.ok;
    });
}

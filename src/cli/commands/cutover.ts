/**
 * `pgferry cutover <task> -s SOURCE -t TARGET`: switch an incremental task over to its target
 * (src/engine/cutover.ts), with `--read-only` making the selected source tables refuse writes for it;
 * `--undo-read-only` lets them accept writes again. The task's selection and mapping come from its
 * record in the state dir (as its migrate command ran it); the connection strings from the flags.
 */
import { Command, Option } from 'commander';
import { type TaskConfig, validateTask } from '../../core/config.js';
import { PgferryError } from '../../core/errors.js';
import { EventBus } from '../../core/events.js';
import { defaultRedactor } from '../../core/redact.js';
import { cutover, type CutoverResult, liftReadOnly } from '../../engine/cutover.js';
import { FileTaskStore } from '../../state/file-store.js';
import { StateDir } from '../../state/state-dir.js';
import { intArg } from '../args.js';
import { EXIT } from '../exit.js';
import { out } from '../output.js';
import { attachProgress, progressMode } from '../progress.js';

interface CutoverFlags {
  source?: string;
  target?: string;
  stateDir?: string;
  readOnly?: boolean;
  undoReadOnly?: boolean;
  reverse?: boolean;
  timeout?: number;
  json?: boolean;
}

/** The task as its migrate command ran it (task.json in its state dir), with these connection strings. */
async function recordedTask(name: string, o: CutoverFlags): Promise<TaskConfig> {
  const root = StateDir.rootFor(o.stateDir ?? process.env.PGFERRY_STATE_DIR);
  if (!o.source || !o.target) {
    throw new PgferryError('usage', `cutover needs both databases of task "${name}"`, {
      hint: 'pass --source URL and --target URL (as given to the migrate command; the source account needs REPLICATION)',
    });
  }
  const store = new FileTaskStore(root);
  const rec = await store.get(name).finally(() => store.close());
  if (!rec) {
    throw new PgferryError('usage', `no task "${name}" in the state dir ${root}`, {
      hint: 'give the task name the migrate command used (--name), and --state-dir when it ran with one',
    });
  }
  return validateTask({ ...rec.config, name, source: o.source, target: o.target, stateDir: root });
}

/** A step's or the downtime's length: hundredths under 10 s (a cutover's steps are short). */
const fmtMs = (ms: number): string => (ms < 10_000 ? `${(ms / 1000).toFixed(2)} s` : `${(ms / 1000).toFixed(1)} s`);

export function renderCutover(r: CutoverResult): string {
  const L: string[] = [];
  if (r.already) L.push(`task ${r.taskId} was cut over already:`);
  else L.push(`task ${r.taskId} cut over: the target holds the source up to ${r.stopLsn}`);
  for (const s of r.steps) L.push(`  ${s.step.padEnd(28)} ${fmtMs(s.durationMs)}`);
  L.push(`  ${r.sequences} sequence(s) set from the source; slot and publication dropped`);
  L.push(
    `write downtime: ${fmtMs(r.downtimeMs)} (writes stopped ${r.writesStoppedAt}, target ready ${r.targetReadyAt})`,
  );
  if (r.readOnly.length) {
    L.push(`the source still refuses writes to ${r.readOnly.length} table(s) (the applications now use the target).`);
    L.push(`undo: ${r.undoCommand}`);
    L.push('  or by hand on the source:');
    for (const s of r.undoSql) L.push(`  ${s}`);
  }
  if (r.reverse) {
    L.push(`the target's changes are captured for the source (task ${r.reverse.taskId}); to roll back:`);
    L.push(`  ${r.reverse.rollback}`);
  }
  return L.join('\n');
}

export function cutoverCommand(): Command {
  return new Command('cutover')
    .description(
      "switch an incremental task to its target: writes stop on the source (--read-only: pgferry stops them), the target applies everything up to the source's current position, sequences are set, the tables compared by hash, slot and publication dropped; prints the write downtime. Run it again after an interruption",
    )
    .argument('<task>', 'task name (as the migrate command named it)')
    .addOption(
      new Option('-s, --source <conninfo>', 'source database (an account with REPLICATION)').env('PGFERRY_SOURCE'),
    )
    .addOption(new Option('-t, --target <conninfo>', 'target database').env('PGFERRY_TARGET'))
    .addOption(
      new Option('--state-dir <dir>', 'root of task state directories (default ./.pgferry)').env('PGFERRY_STATE_DIR'),
    )
    .option('--read-only', 'make the selected source tables refuse writes for the cutover (statement triggers)')
    .option('--undo-read-only', 'let the source tables accept writes again (after --read-only), and do nothing else')
    .option(
      '--reverse',
      "then capture the target's changes for the source (task <task>-reverse: the rollback path; the target needs wal_level=logical, its account REPLICATION)",
    )
    .option('--timeout <sec>', 'longest wait for the target to catch up (default 600)', intArg(1))
    .option('--json', 'print one JSON event per line, then the result, on stdout')
    .action(async (name: string, o: CutoverFlags) => {
      const task = await recordedTask(name, o);
      if (o.undoReadOnly) {
        const r = await liftReadOnly(task, { redactor: defaultRedactor });
        out(
          o.json
            ? JSON.stringify({ type: 'read-only-undone', tables: r.tables })
            : r.tables.length
              ? `task ${r.taskId}: the source accepts writes to ${r.tables.join(', ')} again`
              : `task ${r.taskId}: no table of the source was read-only`,
        );
        process.exitCode = EXIT.ok;
        return;
      }
      const events = new EventBus();
      const done = attachProgress(events, progressMode(o.json));
      try {
        const r = await cutover(task, {
          readOnly: o.readOnly,
          reverse: o.reverse,
          timeoutSec: o.timeout,
          events,
          redactor: defaultRedactor,
        });
        done();
        out(o.json ? JSON.stringify({ type: 'cutover-result', ...r }) : renderCutover(r));
        process.exitCode = EXIT.ok;
      } catch (e) {
        done();
        throw e;
      }
    });
}

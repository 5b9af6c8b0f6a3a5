import { Command, Option } from 'commander';
import { EventBus } from '../../core/events.js';
import { PgferryError } from '../../core/errors.js';
import { migrate, resolveTaskId } from '../../engine/runner.js';
import { controlsFrom } from '../../stages/data/copy/engine.js';
import { attachControlFile } from '../../stages/data/copy/control-file.js';
import { attachControlStore } from '../../stages/data/copy/control-store.js';
import { PgTaskStore } from '../../state/pg-store.js';
import { storeOption } from '../store-option.js';
import { StateDir } from '../../state/state-dir.js';
import { defaultRedactor } from '../../core/redact.js';
import { resolveConnSpec, type ConnSpec } from '../../pg/connstring.js';
import { EXIT } from '../exit.js';
import { addConnectionOptions, addTaskOptions, taskFromOptions } from '../options.js';
import { attachProgress, progressMode } from '../progress.js';
import { out } from '../output.js';
import { intArg, rateArg, sizeArg } from '../args.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];
const MB = 1024 * 1024;

export function addCopyOptions(cmd: Command): Command {
  return cmd
    .option(
      '-j, --jobs <n>',
      'parallel COPY workers, 1..64 (default 4; 0 with --distributed: workers only)',
      intArg(0, 64),
    )
    .option('--index-jobs <n>', 'parallel index builds, 1..64 (default jobs/2)', intArg(1, 64))
    .option(
      '--split-threshold-mb <size>',
      'tables larger than this are split into several copy units, e.g. 256MB, 1GB; a plain number is MB (default 256)',
      sizeArg(MB),
    )
    .option(
      '--unit-mb <size>',
      'size of one copy unit of a split table, e.g. 128MB; a plain number is MB (default 128)',
      sizeArg(MB),
    )
    .addOption(
      new Option(
        '--format <format>',
        'COPY format: auto (binary when source and target majors match), binary, text',
      ).choices(['auto', 'binary', 'text']),
    )
    .option(
      '--max-rows-per-sec <n>',
      'limit rows read from the source per second, all workers together, e.g. 20000 or 20k',
      rateArg('rows'),
    )
    .option(
      '--max-bytes-per-sec <size>',
      'limit bytes read from the source per second, all workers together, e.g. 50MB or 500kB',
      rateArg('bytes'),
    )
    .option(
      '--retry-time <seconds>',
      'how long transient failures (lost connections, too many connections, …) are retried (default 1800)',
      intArg(0),
    );
}

export function copySettings(o: Record<string, any>): Record<string, unknown> | undefined {
  const c: Record<string, unknown> = {
    splitThresholdMB: o.splitThresholdMb,
    unitMB: o.unitMb,
    format: o.format,
    maxRowsPerSec: o.maxRowsPerSec,
    maxBytesPerSec: o.maxBytesPerSec,
    retryTimeSec: o.retryTime,
  };
  for (const k of Object.keys(c)) if (c[k] === undefined) delete c[k];
  return Object.keys(c).length ? c : undefined;
}

/** --distributed with --control: the control database; --jobs 0 only then (no local workers). */
function distributedFrom(o: Record<string, any>): { control: ConnSpec; localWorkers: number } | undefined {
  if (!o.distributed) {
    if (o.control) throw usage('--control is for a distributed copy', 'add --distributed, or leave --control out');
    if (o.jobs === 0)
      throw usage('--jobs 0 copies nothing without workers', 'give --jobs 1..64, or add --distributed --control URL');
    return undefined;
  }
  if (!o.control) {
    throw usage(
      '--distributed needs the control database',
      'give --control postgresql://user@host/db (a database the workers reach too; the target may serve)',
    );
  }
  return { control: resolveConnSpec(o.control, { redactor: defaultRedactor }), localWorkers: 0 };
}

const usage = (message: string, hint: string) => new PgferryError('usage', message, { hint });

export function migrateCommand(): Command {
  const cmd = new Command('migrate').description(
    'full migration in the DTS order: precheck → pre-data schema → data (indexes per table as it lands) → foreign keys and triggers → verify → report. Rerun the same command to resume after any failure',
  );
  addConnectionOptions(cmd, { target: 'required' });
  addTaskOptions(cmd);
  addCopyOptions(cmd)
    .addOption(
      new Option('--verify <mode>', 'verification after the copy: none, count, hash').choices([
        'none',
        'count',
        'hash',
      ]),
    )
    .option('--skip <item>', 'acknowledge a precheck warning item by id (repeatable)', collect)
    .option('--allow-downgrade', 'allow a target major version older than the source')
    .option('--incremental', "after the copy, apply the source's changes (logical replication) until `pgferry cutover`")
    .option(
      '--distributed',
      'copy the units through the --control database: `pgferry worker` on any host copies them; this process keeps the snapshot, runs the other phases and copies with --jobs local workers (0: none)',
    )
    .option(
      '--control <conninfo>',
      'control database of a distributed copy (job queue and worker list; the target may serve); password from PGPASSWORD or ~/.pgpass',
    )
    .option('--drop-orphan-foreign-keys', 'migrate without foreign keys whose parent table is not selected')
    .option('--json', 'print one JSON event per line on stdout instead of progress bars')
    .addOption(storeOption("keep the task's record, lease and live limits"));
  cmd.action(async (o: Record<string, any>) => {
    let distributed: ReturnType<typeof distributedFrom>;
    try {
      distributed = distributedFrom(o);
    } catch (e) {
      // a wrong combination of flags is a usage error like a bad value: one line, exit 2
      if (e instanceof PgferryError && e.kind === 'usage') cmd.error(`${e.message}: ${e.hint}`, { exitCode: 2 });
      throw e;
    }
    const task = taskFromOptions(o, {
      jobs: o.jobs === 0 ? undefined : o.jobs,
      indexJobs: o.indexJobs,
      copy: copySettings(o),
      verify: o.verify,
      skipChecks: o.skip,
      allowDowngrade: o.allowDowngrade,
      incremental: o.incremental,
      // the task is distributed (and validated as such) when run with --distributed
      distributed: o.distributed ? true : undefined,
      dropOrphanForeignKeys: o.dropOrphanForeignKeys,
    });
    if (task.distributed === true && !distributed) {
      throw usage('the task is distributed: it needs the control database', 'add --distributed --control URL');
    }
    const state = new StateDir(StateDir.rootFor(task.stateDir), resolveTaskId(task, defaultRedactor));
    const events = new EventBus();
    const done = attachProgress(events, progressMode(o.json));
    // First SIGINT/SIGTERM: stop cleanly (open COPYs roll back, done units stay done); second: exit now.
    const ac = new AbortController();
    const onSignal = (sig: NodeJS.Signals) => {
      if (ac.signal.aborted) process.exit(EXIT.interrupted);
      events.warn(`${sig} received: stopping; run the same command again to resume`);
      ac.abort(
        new PgferryError('interrupted', `interrupted by ${sig}`, { hint: 'run the same command again to resume' }),
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    // Live limits: control.json in the task's state dir, or the task store's record (`pgferry throttle`),
    // polled into the run's controls.
    const controls = controlsFrom({ copy: task.copy, jobs: task.jobs });
    const store = o.store ? new PgTaskStore(o.store) : undefined;
    const detachControls = store ? attachControlStore(store, state.task, controls) : attachControlFile(state, controls);
    try {
      // the command line's redactor: what it prints is scrubbed of the task's passwords too
      const result = await migrate(task, {
        events,
        signal: ac.signal,
        redactor: defaultRedactor,
        controls,
        store,
        distributed: distributed && { ...distributed, localWorkers: o.jobs ?? task.jobs },
      });
      done();
      if (!o.json && result.summary !== undefined) out(result.summary);
      process.exitCode = result.verify && !result.verify.ok ? EXIT.verify : EXIT.ok;
    } catch (e) {
      done();
      throw e;
    } finally {
      detachControls();
      await store?.close();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  });
  return cmd;
}

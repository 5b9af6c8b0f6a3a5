import { Command } from 'commander';
import { EventBus } from '../../core/events.js';
import { defaultRedactor } from '../../core/redact.js';
import { resolveConnSpec } from '../../pg/connstring.js';
import { runWorker } from '../../worker/worker.js';
import { intArg } from '../args.js';
import { EXIT } from '../exit.js';
import { attachProgress, progressMode } from '../progress.js';

export function workerCommand(): Command {
  return new Command('worker')
    .description(
      'copy units of running distributed tasks (`pgferry migrate --distributed --control URL`) on this host until stopped; ' +
        "each task's source and target passwords come from this host's PGPASSWORD or ~/.pgpass",
    )
    .requiredOption(
      '--control <conninfo>',
      'control database of the distributed tasks; password from PGPASSWORD or ~/.pgpass',
    )
    .option('-j, --jobs <n>', 'units copied at once, 1..64 (default 2)', intArg(1, 64), 2)
    .option('--json', 'print one JSON event per line')
    .action(async (o: { control: string; jobs: number; json?: boolean }) => {
      const events = new EventBus();
      const done = attachProgress(events, progressMode(o.json));
      const ac = new AbortController();
      const onSignal = () => (ac.signal.aborted ? process.exit(EXIT.interrupted) : ac.abort());
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const control = resolveConnSpec(o.control, { redactor: defaultRedactor });
        await runWorker({ control, jobs: o.jobs, events, redactor: defaultRedactor, signal: ac.signal });
      } finally {
        done();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}

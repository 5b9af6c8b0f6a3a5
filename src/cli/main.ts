/**
 * pgferry command line. Commands are thin: they parse flags into a task and call the stage
 * modules; exit codes are decided here (see exit.ts).
 */
import { Command, CommanderError } from 'commander';
import { PgferryError, errorMessage } from '../core/errors.js';
import { StatementError } from '../core/errors.js';
import { EXIT, exitCodeFor } from './exit.js';
import { err } from './output.js';
import { pingCommand } from './commands/ping.js';
import { precheckCommand } from './commands/precheck.js';
import { verifyCommand } from './commands/verify.js';
import { statusCommand } from './commands/status.js';
import { finishCommand } from './commands/finish.js';
import { cutoverCommand } from './commands/cutover.js';
import { planCommand } from './commands/plan.js';
import { migrateCommand } from './commands/migrate.js';
import { demoCommand } from './commands/demo.js';
import { throttleCommand } from './commands/throttle.js';
import { serveCommand } from './commands/serve.js';
import { workerCommand } from './commands/worker.js';
import { configureUsage } from './usage.js';
import { keepHeapSmall } from '../core/heap.js';

export function buildProgram(): Command {
  const program = new Command('pgferry')
    .description(
      'PostgreSQL → PostgreSQL migration: connectivity test, precheck, schema, parallel full data copy on one snapshot with exact resume, verification and report',
    )
    .version('0.1.0')
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 failed, 2 usage, 3 connection failed, 4 precheck failed,
            5 verification mismatch, 6 transient failure outlasted retries, 7 task state, 130 interrupted`,
    );
  program.addCommand(pingCommand());
  program.addCommand(migrateCommand());
  program.addCommand(demoCommand());
  program.addCommand(precheckCommand());
  program.addCommand(verifyCommand());
  program.addCommand(statusCommand());
  program.addCommand(cutoverCommand());
  program.addCommand(finishCommand());
  program.addCommand(planCommand());
  program.addCommand(throttleCommand());
  program.addCommand(serveCommand());
  program.addCommand(workerCommand());
  configureUsage(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  keepHeapSmall();
  const program = buildProgram();
  if (argv.length <= 2) {
    const commands = program.commands.map((c) => c.name()).join(', ');
    err(`pgferry: missing command (${commands}) — see \`pgferry --help\``);
    process.exitCode = EXIT.usage;
    return;
  }
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode === 0 ? 0 : EXIT.usage;
      return;
    }
    if (e instanceof StatementError) {
      err(`pgferry: error: ${e.message}`);
    } else if (e instanceof PgferryError) {
      err(`pgferry: error: ${e.message}`);
      if (e.hint) err(`  fix: ${e.hint}`);
    } else if (e instanceof Error && e.name === 'ConnStringError') {
      err(`pgferry: error: ${e.message}`);
      err(`  fix: ${(e as { hint?: string }).hint ?? ''}`);
    } else {
      err(`pgferry: internal error: ${errorMessage(e)}`);
      if (process.env.PGFERRY_DEBUG && e instanceof Error) err(e.stack ?? '');
    }
    process.exitCode = exitCodeFor(e);
  }
}

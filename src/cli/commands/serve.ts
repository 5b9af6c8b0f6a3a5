/**
 * `pgferry serve`: the HTTP API (src/server) in the foreground until SIGINT/SIGTERM. Runs are
 * interrupted on the way out and resume at the next start; a task's failure never stops the server.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { startServer } from '../../server/app.js';
import { PgTaskStore } from '../../state/pg-store.js';
import { intArg } from '../args.js';
import { err, out } from '../output.js';

/** host:port, [v6]:port or a port alone. */
export function listenArg(v: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(v.trim()) ?? /^()()(\d+)$/.exec(v.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError('expected host:port, e.g. 127.0.0.1:7300 or [::1]:7300.');
  }
  return { host: m[1] || m[2] || '127.0.0.1', port };
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('run the HTTP API: tasks created, started, followed (Server-Sent Events) and resumed automatically')
    .option('--listen <host:port>', 'address to listen on (default 127.0.0.1:7300)', listenArg)
    .addOption(
      new Option('--data-dir <dir>', 'root of the task state directories (default ./.pgferry)').env(
        'PGFERRY_STATE_DIR',
      ),
    )
    .option('--store <url>', 'keep task records in this PostgreSQL database instead of the data dir')
    .option(
      '--retry-base <seconds>',
      'delay before resuming a task after a transient failure, doubled each time (default 5)',
      intArg(1),
    )
    .option('--retry-max <seconds>', 'longest delay between automatic resumes (default 300)', intArg(1))
    .option(
      '--max-attempts <n>',
      'runs of a task per start, automatic resumes included; 0: no limit (default 10)',
      intArg(0),
    )
    .action(async (o: Record<string, any>) => {
      const listen = o.listen ?? { host: '127.0.0.1', port: 7300 };
      const backoff = {
        ...(o.retryBase !== undefined ? { baseMs: o.retryBase * 1000 } : {}),
        ...(o.retryMax !== undefined ? { maxMs: o.retryMax * 1000 } : {}),
        ...(o.maxAttempts !== undefined ? { maxAttempts: o.maxAttempts } : {}),
      };
      // one task's stray promise must not end the service; it is logged and the server goes on
      const onRejection = (e: unknown) => err(`pgferry serve: unhandled rejection: ${String(e)}`);
      process.on('unhandledRejection', onRejection);
      const store = o.store ? new PgTaskStore(o.store) : undefined;
      const server = await startServer({ ...listen, dataDir: o.dataDir, store, backoff, log: err });
      out(`pgferry serve: listening on ${server.url} (data dir ${server.dataDir})`);
      if (server.resumed.length) out(`pgferry serve: resumed ${server.resumed.join(', ')}`);
      await new Promise<void>((done) => {
        const stop = (sig: NodeJS.Signals) => {
          out(`pgferry serve: ${sig} received, stopping (running tasks resume at the next start)`);
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          server.close().finally(done);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      process.off('unhandledRejection', onRejection);
    });
}

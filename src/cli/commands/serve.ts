/**
 * `pgferry serve`: the HTTP API (src/server) in the foreground until SIGINT/SIGTERM. Runs are
 * interrupted on the way out and resume at the next start; a task's failure never stops the server.
 * The log goes to stdout (text or JSON lines); the console's URL with the API token goes to stderr,
 * once, at start, and only when the token is the data dir's (a token given is not repeated).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { PgferryError } from '../../core/errors.js';
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
      '--token <token>',
      "API token (default: $PGFERRY_TOKEN, else the data dir's .api-token, made at first start); prefer $PGFERRY_TOKEN, as other users of the machine can read command lines",
    )
    .addOption(
      new Option('--log-format <format>', 'log lines on stdout: text or json (default text)').choices(['text', 'json']),
    )
    .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate (chain); needs --tls-key')
    .option('--tls-key <file>', 'the PEM private key of --tls-cert')
    .option('--metrics-public', 'answer /metrics without the API token (e.g. for a Prometheus on the same host)')
    .option(
      '--allow-host <name>',
      "a host name the Host header may carry besides localhost, IP addresses and the machine's name (behind a proxy); repeatable",
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option(
      '--control <conninfo>',
      'control database for distributed tasks: their units are copied by `pgferry worker`s on that database (the target may serve); password from PGPASSWORD or ~/.pgpass',
    )
    .option(
      '--max-attempts <n>',
      'runs of a task per start, automatic resumes included; 0: no limit (default 10)',
      intArg(0),
    )
    .action(async (o: Record<string, any>) => {
      const listen = o.listen ?? { host: '127.0.0.1', port: 7300 };
      if (Boolean(o.tlsCert) !== Boolean(o.tlsKey)) {
        throw new PgferryError(
          'usage',
          `--${o.tlsCert ? 'tls-cert' : 'tls-key'} was given without --${o.tlsCert ? 'tls-key' : 'tls-cert'}`,
          {
            hint: 'give both: the PEM certificate with --tls-cert and its private key with --tls-key',
          },
        );
      }
      const tls = o.tlsCert ? { cert: o.tlsCert as string, key: o.tlsKey as string } : undefined;
      const backoff = {
        ...(o.retryBase !== undefined ? { baseMs: o.retryBase * 1000 } : {}),
        ...(o.retryMax !== undefined ? { maxMs: o.retryMax * 1000 } : {}),
        ...(o.maxAttempts !== undefined ? { maxAttempts: o.maxAttempts } : {}),
      };
      // one task's stray promise must not end the service; it is logged and the server goes on
      let logger: { error(msg: string, f?: Record<string, string>): void } | undefined;
      const onRejection = (e: unknown) =>
        logger
          ? logger.error('unhandled rejection', { error: String(e) })
          : err(`pgferry serve: unhandled rejection: ${String(e)}`);
      process.on('unhandledRejection', onRejection);
      const store = o.store ? new PgTaskStore(o.store) : undefined;
      // the server (HTTP, metrics, console files) is loaded by this command only, not at every start-up
      const { startServer } = await import('../../server/app.js');
      const server = await startServer({
        ...listen,
        dataDir: o.dataDir,
        store,
        backoff,
        log: out,
        logFormat: o.logFormat,
        token: o.token,
        metricsPublic: Boolean(o.metricsPublic),
        allowHosts: o.allowHost,
        tls,
        control: o.control,
      });
      logger = server.logger;
      server.logger.info('listening', { url: server.url, dataDir: server.dataDir, tokenFrom: server.tokenFrom });
      if (server.resumed.length) server.logger.info('resumed tasks', { tasks: server.resumed.join(',') });
      // the one place the token is printed: for the person who started the server, not in the log
      if (server.tokenGiven) err(`pgferry console: ${server.url}/ (API token: the one given by ${server.tokenFrom})`);
      else err(`pgferry console: ${server.consoleUrl}`);
      await new Promise<void>((done) => {
        const stop = (sig: NodeJS.Signals) => {
          server.logger.info('stopping; running tasks resume at the next start', { signal: sig });
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

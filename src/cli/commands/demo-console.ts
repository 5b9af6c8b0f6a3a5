/**
 * `pgferry demo --console`: the demo's embedded source and target with the sample database, and
 * `pgferry serve` on a throwaway data dir holding one task "demo" from the source to the target,
 * created and prechecked but not started (Start is the user's click). Prints the console's URL and
 * runs until Ctrl-C (SIGINT) or SIGTERM, which stop the service, both servers and remove the data dir.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningServer } from '../../server/app.js';
import { PgferryError } from '../../core/errors.js';
import { plural } from '../../core/plural.js';
import type { Cluster } from '../../dev/embedded/cluster.js';
import { out } from '../output.js';

export interface DemoConsoleOptions {
  src: Cluster;
  tgt: Cluster;
  jobs: number;
  listen: { host: string; port: number };
}

/** Serve the console with the demo task ready, until a signal ends the process. */
export async function demoConsole(o: DemoConsoleOptions): Promise<never> {
  const dataDir = mkdtempSync(join(tmpdir(), 'pgferry-demo-console-'));
  const cleanup = () => rmSync(dataDir, { recursive: true, force: true });
  // on Ctrl-C or SIGTERM the data dir goes first; then the clusters' own handler
  // (dev/embedded/cluster.ts) stops both servers and exits
  const onSignal = () => {
    out('pgferry demo: stopping the console and both servers');
    cleanup();
  };
  process.prependOnceListener('SIGINT', onSignal);
  process.prependOnceListener('SIGTERM', onSignal);
  let server: RunningServer | undefined;
  try {
    const { startServer } = await import('../../server/app.js');
    server = await startServer({ ...o.listen, dataDir, log: () => {} }).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EADDRINUSE') throw e;
      throw new PgferryError('usage', `${o.listen.host}:${o.listen.port} is already in use`, {
        hint: `pass --listen ${o.listen.host}:<another port> (0 picks a free one), or stop what listens there`,
      });
    });
    await server.tasks.create({
      name: 'demo',
      source: o.src.url('shop'),
      target: o.tgt.url('shop'),
      jobs: o.jobs,
      verify: 'count',
    });
    const pre = await server.tasks.precheck('demo');
    const count = (r: string) => pre.items.filter((i) => i.result === r).length;
    out(
      `task "demo" created and prechecked: ${plural(count('pass'), 'check')} passed, ` +
        `${plural(count('warning'), 'warning')}, ${plural(count('fail'), 'failure')}; not started`,
    );
  } catch (e) {
    await server?.close().catch(() => {});
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    cleanup();
    throw e;
  }
  out(`pgferry demo: console at ${server.consoleUrl}#/tasks/demo`);
  out('open it and press Start on the task page; Ctrl-C stops the console and both servers');
  // the HTTP server keeps the process alive until the signal
  return new Promise<never>(() => {});
}

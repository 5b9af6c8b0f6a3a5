/** `pgferry serve` from source as a child process on a free port, for the console's browser tests. */
import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from '../../src/dev/embedded/cluster.js';

export interface Served {
  url: string;
  output(): string;
  stop(): Promise<void>;
}

const CLI = new URL('../helpers/cli.ts', import.meta.url).pathname;

export async function startServe(dataDir: string, timeoutMs = 120_000): Promise<Served> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', CLI, 'serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } },
  );
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  for (const t0 = Date.now(); Date.now() - t0 < timeoutMs; ) {
    if (child.exitCode !== null) throw new Error(`pgferry serve exited with ${child.exitCode}:\n${out}`);
    try {
      const r = await fetch(`${url}/api/health`);
      if (r.ok) return { url, output: () => out, stop };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error(`pgferry serve did not answer /api/health within ${timeoutMs} ms:\n${out}`);
}

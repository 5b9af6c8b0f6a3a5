/** `pgferry serve` from source as a child process on a free port, for the console's browser tests. */
import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from '../../src/dev/embedded/cluster.js';
import { type Api, apiClient } from '../server/helpers.js';

export interface Served {
  url: string;
  /** Calls to its API (every HTTP request of the tests goes through apiClient). */
  api: Api;
  /** The console's address for the browser, at a route (`#/new`): the one place its credentials go. */
  consoleUrl(route?: string): string;
  pid: number;
  output(): string;
  stop(): Promise<void>;
  /** SIGKILL: the process dies without giving anything up. */
  kill(): Promise<void>;
}

const CLI = new URL('../helpers/cli.ts', import.meta.url).pathname;

/** `args`: more options of `pgferry serve` (e.g. --store, --retry-base). */
export async function startServe(dataDir: string, timeoutMs = 120_000, args: string[] = []): Promise<Served> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', CLI, 'serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, ...args],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } },
  );
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const api = apiClient(url);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  const consoleUrl = (route = '') => `${url}/${route}`;
  const served = { url, api, consoleUrl, pid: child.pid ?? 0, output: () => out, stop, kill };
  for (const t0 = Date.now(); Date.now() - t0 < timeoutMs; ) {
    if (child.exitCode !== null) throw new Error(`pgferry serve exited with ${child.exitCode}:\n${out}`);
    try {
      if ((await api.call('GET', '/api/health')).status === 200) return served;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error(`pgferry serve did not answer /api/health within ${timeoutMs} ms:\n${out}`);
}

/**
 * `pgferry serve` from source as a child process on a free port, for the console's browser tests.
 * The API token is made here and given through $PGFERRY_TOKEN: `token` is what the tests open the
 * console with (`/?token=…`), `fetch` calls the API with it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { freePort } from '../../src/dev/embedded/cluster.js';
import { type Api, apiClient } from '../server/helpers.js';

export interface Served {
  url: string;
  port: number;
  /** The API token the server wants. */
  token: string;
  /** Calls to its API with the token (every HTTP request of the tests goes through apiClient). */
  api: Api;
  /** The console's address for the browser, at a route (`#/new`), with the token to open it once. */
  consoleUrl(route?: string): string;
  pid: number;
  /** fetch() on the server with `Authorization: Bearer <token>`. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** stdout and stderr together. */
  output(): string;
  /** stdout alone: the log. */
  log(): string;
  stop(): Promise<void>;
  /** SIGKILL: the process dies without giving anything up. */
  kill(): Promise<void>;
}

const CLI = new URL('../helpers/cli.ts', import.meta.url).pathname;

export async function startServe(
  dataDir: string,
  timeoutMs = 120_000,
  o: { args?: string[]; env?: NodeJS.ProcessEnv; host?: string; port?: number; token?: string } = {},
): Promise<Served> {
  const port = o.port ?? (await freePort());
  const token = o.token ?? randomBytes(24).toString('hex');
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      CLI,
      'serve',
      '--listen',
      `${o.host ?? '127.0.0.1'}:${port}`,
      '--data-dir',
      dataDir,
      ...(o.args ?? []),
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '', PGFERRY_TOKEN: token, ...o.env },
    },
  );
  let out = '';
  let log = '';
  child.stdout?.on('data', (d) => {
    out += d;
    log += d;
  });
  child.stderr?.on('data', (d) => (out += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const authed = (path: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${token}`);
    return fetch(`${url}${path}`, { ...init, headers });
  };
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
  const api = apiClient({ url, token });
  const consoleUrl = (route = '') => `${url}/?token=${encodeURIComponent(token)}${route}`;
  const served: Served = {
    url,
    port,
    token,
    api,
    consoleUrl,
    pid: child.pid ?? 0,
    fetch: authed,
    output: () => out,
    log: () => log,
    stop,
    kill,
  };
  for (const t0 = Date.now(); Date.now() - t0 < timeoutMs; ) {
    if (child.exitCode !== null) throw new Error(`pgferry serve exited with ${child.exitCode}:\n${out}`);
    try {
      const r = await authed('/api/health');
      if (r.ok) return served;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error(`pgferry serve did not answer /api/health within ${timeoutMs} ms:\n${out}`);
}

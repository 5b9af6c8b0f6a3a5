/**
 * The pgferry service: the HTTP API over node:http on one address (127.0.0.1 by default), tasks in
 * a TaskStore, runs supervised in this process. `startServer` resolves once it listens and has
 * restarted the tasks it was running when it last stopped; `close` interrupts runs (they resume at
 * the next start) and stops listening. Every API request passes the guard (auth.ts) first; every
 * request is logged (logger.ts) and counted (metrics.ts) when it ends.
 */
import type { IncomingMessage, Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { authenticated, badHost, hostAllowed, loadToken, unauthorized } from './auth.js';
import { createLogger, type LogFormat, type Logger } from './logger.js';
import { ServiceMetrics } from './metrics.js';
import { opsRoutes } from './routes/ops.js';
import { isLoopback, makeServer, type TlsFiles } from './transport.js';
import { DEFAULT_BACKOFF, type Backoff } from '../engine/resume-policy.js';
import { FileTaskStore } from '../state/file-store.js';
import type { TaskStore } from '../state/store.js';
import { EventHub } from './event-hub.js';
import { json, Router, type RouteInfo } from './router.js';
import { connectionRoutes } from './routes/connections.js';
import { eventRoutes } from './routes/events.js';
import { metaRoutes } from './routes/meta.js';
import { taskRoutes } from './routes/tasks.js';
import { loadSecretKey, SecretBox } from './secrets.js';
import { serveStatic } from './static.js';
import { Supervisor } from './supervisor.js';
import { TaskManager } from './task-manager.js';

export interface ServerOptions {
  host?: string;
  /** 0: any free port. */
  port?: number;
  /** Root of the tasks' state directories (default ./.pgferry). */
  dataDir?: string;
  /** Default: the FileTaskStore over dataDir. */
  store?: TaskStore;
  backoff?: Partial<Backoff>;
  /** Where the log's lines go (default: stdout). */
  log?: (line: string) => void;
  logFormat?: LogFormat;
  env?: NodeJS.ProcessEnv;
  /** The API token (default: $PGFERRY_TOKEN, else the data dir's .api-token, made at first start). */
  token?: string;
  /** Host names accepted in the Host header besides localhost, IP addresses and the listen host. */
  allowHosts?: string[];
  /** /metrics answered without the token. */
  metricsPublic?: boolean;
  /** HTTPS with this certificate chain and key (PEM files) instead of plain HTTP. */
  tls?: TlsFiles;
  /** Control database of distributed tasks (their units are copied by `pgferry worker`s); password from PG* or ~/.pgpass. */
  control?: string;
}

export interface RunningServer {
  url: string;
  port: number;
  host: string;
  dataDir: string;
  /** Tasks resumed at start-up. */
  resumed: string[];
  /** The tasks, as the API sees them (for an adapter that prepares one, e.g. `pgferry demo --console`). */
  tasks: TaskManager;
  /** The API token every request under /api must carry as `Authorization: Bearer <token>`. */
  token: string;
  /** Where the token comes from: its file, or the option/variable that gave it. */
  tokenFrom: string;
  /** The token was given (--token, $PGFERRY_TOKEN, the token option) rather than kept in the data dir. */
  tokenGiven: boolean;
  /** The console's address with the token, to open once (the console then drops it from the address bar). */
  consoleUrl: string;
  /** Every route, with whether it is open without the token. */
  routes: RouteInfo[];
  logger: Logger;
  close(): Promise<void>;
}

/** The path of a request without its query (a console URL's ?token=… never reaches the log). */
const pathOf = (req: IncomingMessage) => (req.url ?? '/').split('?')[0];

/** The task a request is about, when its route has an :id. */
function taskOf(route: string, path: string): string | undefined {
  const at = route.split('/').indexOf(':id');
  if (at < 0) return undefined;
  try {
    return decodeURIComponent(path.split('/')[at] ?? '') || undefined;
  } catch {
    return undefined;
  }
}

/** pgferry's version: its package.json, two directories up from src/server and dist/server, one from dist/pgferry.mjs. */
export function packageVersion(): string {
  for (const rel of ['../../package.json', '../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'pgferry') return pkg.version ?? '0.0.0';
    } catch {
      // not there: the next place
    }
  }
  return '0.0.0';
}

function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      ok(server.address() as AddressInfo);
    });
  });
}

export async function startServer(o: ServerOptions = {}): Promise<RunningServer> {
  const dataDir = resolve(o.dataDir ?? '.pgferry');
  const token = loadToken(dataDir, o.token, o.env);
  const logger = createLogger({
    format: o.logFormat,
    write: o.log ?? ((line: string) => process.stdout.write(`${line}\n`)),
    secrets: [token.value],
  });
  const store = o.store ?? new FileTaskStore(dataDir);
  const box = new SecretBox(loadSecretKey(dataDir, o.env), dataDir);
  const hub = new EventHub();
  const host = o.host ?? '127.0.0.1';
  const allowHosts = [...(o.allowHosts ?? []), ...(isLoopback(host) ? [] : [hostname()])];
  const version = packageVersion();
  let tasks: TaskManager | undefined;
  const metrics = new ServiceMetrics(async () => (tasks ? (await tasks.list()).map((t) => t.status) : []));
  hub.tap((task, e) => metrics.event(task, e));
  const supervisor = new Supervisor({
    dataDir,
    store,
    box,
    hub,
    backoff: { ...DEFAULT_BACKOFF, ...o.backoff },
    logger,
    control: o.control,
    onResume: (id, reason) => metrics.resumed(id, reason),
  });
  tasks = new TaskManager({
    dataDir,
    store,
    box,
    hub,
    supervisor,
    control: o.control,
    onDelete: (id) => metrics.forget(id),
  });
  const isAuthed = (req: IncomingMessage) => authenticated(req, token.value);
  const router = new Router();
  // the one gate: the Host names this server, and every API route (and /metrics unless opened) has the token
  router.guard((req, path, route) => {
    if (!hostAllowed(req.headers.host, host, allowHosts)) throw badHost(req.headers.host);
    if (route?.open) return;
    if ((route || path === '/api' || path.startsWith('/api/')) && !isAuthed(req)) throw unauthorized(req, token);
  });
  router.observe((req, res, route) => {
    const t0 = process.hrtime.bigint();
    res.once('close', () => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const status = res.writableFinished || res.headersSent ? res.statusCode : 499;
      metrics.request(req.method ?? 'GET', route, status, seconds);
      const path = pathOf(req);
      const entry = {
        method: req.method,
        path,
        status,
        durationMs: Math.round(seconds * 10000) / 10,
        task: taskOf(route, path),
      };
      if (status >= 500) logger.error('request', entry);
      else logger.info('request', entry);
    });
  });
  metaRoutes(router, version, { distributed: o.control !== undefined });
  opsRoutes(router, { version, store, metrics, metricsOpen: o.metricsPublic ?? false, authenticated: isAuthed });
  connectionRoutes(router);
  taskRoutes(router, tasks);
  eventRoutes(router, tasks, hub);
  // the web console's files (GET outside /api/); a path that names none is a 404 like any other
  router.fallback(({ req, res }) => {
    if (serveStatic(req, res)) return undefined;
    return json(
      { error: { cause: `no such page: ${req.url}`, fix: 'open / for the console', code: 'not_found' } },
      404,
    );
  });
  const server = makeServer(o.tls, (req, res) => {
    router.handle(req, res).catch((e) => {
      logger.error('request failed', { method: req.method, path: pathOf(req), error: String(e) });
      res.destroy();
    });
  });
  const addr = await listen(server, o.port ?? 7300, host);
  if (!isLoopback(addr.address) && !o.tls) {
    logger.warn(
      `listening on ${addr.address}, a non-loopback address, over plain HTTP: the API token and the ` +
        'connection passwords sent to the API cross the network unencrypted',
      {
        fix: 'give --tls-cert and --tls-key, or listen on 127.0.0.1 (the default) and put pgferry serve behind a reverse proxy that terminates TLS, or reach it through an SSH tunnel',
      },
    );
  }
  const resumed = await supervisor.resumeAll();
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `${o.tls ? 'https' : 'http'}://${shown}:${addr.port}`;
  return {
    url,
    port: addr.port,
    host: addr.address,
    dataDir,
    resumed,
    tasks,
    token: token.value,
    tokenFrom: token.from,
    tokenGiven: token.given,
    consoleUrl: `${url}/?token=${encodeURIComponent(token.value)}`,
    routes: router.table(),
    logger,
    close: async () => {
      await supervisor.close();
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
      await store.close();
    },
  };
}

/**
 * The pgferry service: the HTTP API over node:http on one address (127.0.0.1 by default), tasks in
 * a TaskStore, runs supervised in this process. `startServer` resolves once it listens and has
 * restarted the tasks it was running when it last stopped; `close` interrupts runs (they resume at
 * the next start) and stops listening.
 */
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { DEFAULT_BACKOFF, type Backoff } from '../engine/resume-policy.js';
import { FileTaskStore } from '../state/file-store.js';
import type { TaskStore } from '../state/store.js';
import { EventHub } from './event-hub.js';
import { json, Router } from './router.js';
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
  log?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
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
  close(): Promise<void>;
}

export function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
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
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const dataDir = resolve(o.dataDir ?? '.pgferry');
  const store = o.store ?? new FileTaskStore(dataDir);
  const box = new SecretBox(loadSecretKey(dataDir, o.env), dataDir);
  const hub = new EventHub();
  const supervisor = new Supervisor({ dataDir, store, box, hub, backoff: { ...DEFAULT_BACKOFF, ...o.backoff }, log });
  const tasks = new TaskManager({ dataDir, store, box, hub, supervisor });
  const router = new Router();
  metaRoutes(router, packageVersion());
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
  const server = createServer((req, res) => {
    router.handle(req, res).catch((e) => {
      log(`request ${req.method} ${req.url}: ${String(e)}`);
      res.destroy();
    });
  });
  const host = o.host ?? '127.0.0.1';
  const addr = await listen(server, o.port ?? 7300, host);
  const resumed = await supervisor.resumeAll();
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${shown}:${addr.port}`,
    port: addr.port,
    host: addr.address,
    dataDir,
    resumed,
    tasks,
    close: async () => {
      await supervisor.close();
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
      await store.close();
    },
  };
}

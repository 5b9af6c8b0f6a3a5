/**
 * The server's tests talk to it over real HTTP: JSON requests that keep every response text (to
 * look for passwords in it), a Server-Sent Events client that reconnects with Last-Event-ID, and
 * waiting for a task's status. Each takes the server (its url and API token: every request carries
 * `Authorization: Bearer <token>`), or a bare URL for a router without authentication.
 */
import { request } from 'node:http';
import { spawnSync } from 'node:child_process';
import type { Cluster } from '../../src/dev/embedded/cluster.js';

/** A running server as the helpers need it: where it is and the token its API wants. */
export type ServerRef = string | { url: string; token?: string };

const refOf = (s: ServerRef) => (typeof s === 'string' ? { url: s, token: undefined } : s);

/** The Authorization header of the server's token (none for a bare URL). */
export function authHeader(s: ServerRef): Record<string, string> {
  const { token } = refOf(s);
  return token ? { authorization: `Bearer ${token}` } : {};
}

export interface Api {
  base: string;
  /** Every response body so far. */
  seen: string[];
  call<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T; text: string }>;
}

export function apiClient(server: ServerRef, seen: string[] = []): Api {
  const base = refOf(server).url;
  const auth = authHeader(server);
  return {
    base,
    seen,
    call: (method, path, body) =>
      new Promise((resolve, reject) => {
        const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
        const headers = { ...auth, ...(data ? { 'content-type': 'application/json' } : {}) };
        const req = request(`${base}${path}`, { method, headers });
        req.on('error', reject);
        req.on('response', (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d) => (text += d));
          res.on('end', () => {
            seen.push(text);
            let parsed: any = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              /* not JSON */
            }
            resolve({ status: res.statusCode ?? 0, body: parsed, text });
          });
        });
        req.end(data);
      }),
  };
}

export interface SseEvent {
  id: number;
  event: string;
  data: any;
}

/**
 * Follow a task's events until `until` says stop (or the timeout); returns what arrived and the raw
 * text. `lastEventId` goes in the Last-Event-ID header, as a reconnecting EventSource sends it.
 */
export function followEvents(
  server: ServerRef,
  task: string,
  o: { lastEventId?: number; until: (e: SseEvent, all: SseEvent[]) => boolean; timeoutMs?: number },
): Promise<{ events: SseEvent[]; raw: string }> {
  return new Promise((resolve, reject) => {
    const base = refOf(server).url;
    const headers: Record<string, string> = { accept: 'text/event-stream', ...authHeader(server) };
    if (o.lastEventId !== undefined) headers['last-event-id'] = String(o.lastEventId);
    const events: SseEvent[] = [];
    let raw = '';
    let buf = '';
    const req = request(`${base}/api/tasks/${encodeURIComponent(task)}/events`, { headers });
    const timer = setTimeout(() => {
      req.destroy();
      reject(
        new Error(`no end of the event stream of ${task} in ${o.timeoutMs ?? 300_000} ms (${events.length} events)`),
      );
    }, o.timeoutMs ?? 300_000);
    const finish = () => {
      clearTimeout(timer);
      req.destroy();
      resolve({ events, raw });
    };
    req.on('error', (e) => (events.length ? finish() : reject(e)));
    req.on('response', (res) => {
      if (res.statusCode !== 200) return reject(new Error(`event stream: HTTP ${res.statusCode}`));
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        raw += chunk;
        buf += chunk;
        let at: number;
        while ((at = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, at);
          buf = buf.slice(at + 2);
          const f: Record<string, string> = {};
          for (const line of block.split('\n')) {
            const m = /^(id|event|data): (.*)$/.exec(line);
            if (m) f[m[1]] = m[2];
          }
          if (f.id === undefined) continue;
          const e = { id: Number(f.id), event: f.event, data: JSON.parse(f.data) };
          events.push(e);
          if (o.until(e, events)) return finish();
        }
      });
    });
    req.end();
  });
}

export type Sample = { name: string; labels: Record<string, string>; value: number };

/**
 * The Prometheus text format, strictly: HELP and TYPE comments, then `name{labels} value` lines
 * (NaN in any case, as Prometheus's float parser takes it: the event loop metrics say "Nan" before
 * their first sample).
 */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      if (meta[1] === 'TYPE') {
        if (!/^(counter|gauge|histogram|summary|untyped)$/.test(meta[3])) throw new Error(`bad TYPE: ${line}`);
        types.set(meta[2], meta[3]);
      }
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+-]+|[Nn]a[Nn]|[+-]Inf)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    const family = m[1].replace(/_(bucket|sum|count)$/, '');
    if (!types.has(m[1]) && !types.has(family)) throw new Error(`no TYPE for ${m[1]}`);
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

export const metric = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll the task until `ok` holds for its summary. */
export async function waitForTask(api: Api, id: string, ok: (t: any) => boolean, timeoutMs = 240_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let last: any;
  while (Date.now() < deadline) {
    const r = await api.call('GET', `/api/tasks/${id}`);
    last = r.body;
    if (r.status === 200 && ok(last)) return last;
    await sleep(200);
  }
  throw new Error(`task ${id} did not reach the expected state: ${JSON.stringify(last).slice(0, 2000)}`);
}

/** pg_ctl on a test cluster, as the OS user that owns it. */
export function pgCtl(c: Cluster, args: string[]): void {
  const asRoot = process.getuid?.() === 0;
  const bin = c.bin('pg_ctl');
  const r = spawnSync(asRoot ? 'runuser' : bin, asRoot ? ['-u', 'postgres', '--', bin, ...args] : args, {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`pg_ctl ${args.join(' ')}: ${r.stdout}${r.stderr}`);
}

/** Stop the cluster (fast shutdown: sessions are terminated), keep it down for `downMs`, start it again. */
export async function bounce(c: Cluster, downMs: number): Promise<void> {
  pgCtl(c, ['stop', '-D', c.dataDir, '-m', 'fast', '-w', '-s']);
  await sleep(downMs);
  pgCtl(c, ['start', '-D', c.dataDir, '-w', '-s', '-l', c.logFile, '-o', `-p ${c.port}`]);
}

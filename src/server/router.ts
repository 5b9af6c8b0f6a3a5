/**
 * A small router over node:http: routes are a method and a path pattern (`/api/tasks/:id/start`),
 * handlers get the request, the response, the path parameters and the query; what they return is
 * sent as JSON (status 200 unless the handler says otherwise); what they throw becomes an API error.
 * The guard (authentication) sees every request first, matched or not, with the route it matched:
 * what it throws is the answer, so no route is reached without passing it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, toApiError } from './http-error.js';

export interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  /** The request body parsed as JSON ({} when empty); a body that is not JSON is a 400. */
  body(): Promise<unknown>;
}

/** A handler's answer: a value sent as JSON with `status`, or `undefined` when it wrote the response itself. */
export type Reply = { status: number; json: unknown } | { status: number; text: string; type: string } | undefined;
export type Handler = (ctx: Ctx) => Promise<Reply> | Reply;

/** A route as the table lists it: `open` routes are answered without the API token. */
export interface RouteInfo {
  method: string;
  pattern: string;
  open: boolean;
}

interface Route extends RouteInfo {
  parts: string[];
  handler: Handler;
}

/** Throws (an HttpError) to refuse the request; `route` is undefined when no route matched. */
export type Guard = (req: IncomingMessage, path: string, route: RouteInfo | undefined) => void;
/** Told of each request once it is matched: the route pattern, "static" (fallback) or "unmatched". */
export type Observer = (req: IncomingMessage, res: ServerResponse, route: string) => void;

const MAX_BODY = 1024 * 1024;

export const json = (value: unknown, status = 200): Reply => ({ status, json: value });

function readBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new HttpError(413, 'too_large', 'the request body is over 1 MB', 'send a smaller task'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('error', reject);
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8').trim();
      if (!text) return resolve({});
      try {
        resolve(JSON.parse(text));
      } catch (e) {
        reject(new HttpError(400, 'bad_json', `the body is not JSON: ${(e as Error).message}`, 'send a JSON object'));
      }
    });
  });
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

export class Router {
  private routes: Route[] = [];
  private other: Handler | undefined;
  private guardFn: Guard | undefined;
  private observer: Observer | undefined;

  /** Checked before any route or the fallback answers. */
  guard(fn: Guard): this {
    this.guardFn = fn;
    return this;
  }

  observe(fn: Observer): this {
    this.observer = fn;
    return this;
  }

  /** Every route: method, pattern, and whether it is open without the token. */
  table(): RouteInfo[] {
    return this.routes.map(({ method, pattern, open }) => ({ method, pattern, open }));
  }

  /** The handler of GET requests outside /api/ that no route takes (e.g. static files). */
  fallback(handler: Handler): this {
    this.other = handler;
    return this;
  }

  add(method: string, pattern: string, handler: Handler, o: { open?: boolean } = {}): this {
    this.routes.push({ method, pattern, open: o.open ?? false, parts: pattern.split('/').filter(Boolean), handler });
    return this;
  }

  private match(method: string, path: string): { route?: Route; params: Record<string, string>; allowed: boolean } {
    const segs = path.split('/').filter(Boolean);
    let allowed = false;
    for (const route of this.routes) {
      if (route.parts.length !== segs.length) continue;
      const params: Record<string, string> = {};
      const ok = route.parts.every((p, i) => {
        if (p.startsWith(':')) {
          try {
            params[p.slice(1)] = decodeURIComponent(segs[i]);
          } catch {
            return false; // not a valid percent-encoding: no route matches it
          }
          return true;
        }
        return p === segs[i];
      });
      if (!ok) continue;
      if (route.method === method) return { route, params, allowed: true };
      allowed = true;
    }
    return { params: {}, allowed };
  }

  private send(res: ServerResponse, reply: NonNullable<Reply>): void {
    if ('json' in reply) {
      sendJson(res, reply.status, reply.json);
      return;
    }
    res.writeHead(reply.status, { 'content-type': reply.type, 'cache-control': 'no-store' });
    res.end(reply.text);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      const { route, params, allowed } = this.match(req.method ?? 'GET', url.pathname);
      const fallback = !route && this.other && req.method === 'GET' && !url.pathname.startsWith('/api/');
      this.observer?.(req, res, route ? route.pattern : fallback ? 'static' : 'unmatched');
      this.guardFn?.(req, url.pathname, route);
      if (fallback && this.other) {
        const reply = await this.other({ req, res, params: {}, query: url.searchParams, body: () => readBody(req) });
        if (reply) this.send(res, reply);
        return;
      }
      if (!route) {
        if (allowed)
          throw new HttpError(405, 'method_not_allowed', `${req.method} is not allowed here`, 'see /api/openapi.json');
        throw new HttpError(404, 'not_found', `no such endpoint: ${url.pathname}`, 'see /api/openapi.json for the API');
      }
      const reply = await route.handler({ req, res, params, query: url.searchParams, body: () => readBody(req) });
      if (reply) this.send(res, reply);
    } catch (e) {
      const { status, body } = toApiError(e);
      if (res.headersSent) res.destroy();
      else {
        if (status === 401) res.setHeader('www-authenticate', 'Bearer realm="pgferry"');
        sendJson(res, status, body);
      }
    }
  }
}

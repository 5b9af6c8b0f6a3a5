/**
 * The web console's files (built into dist/console by scripts/build-console.mjs) served by
 * `pgferry serve` at `/`. Only files inside that folder are served; everything else under /api
 * belongs to the API routes. Every response forbids framing and inline scripts.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
};

const HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
};

/**
 * The built console: dist/console next to dist/server when running the build, beside the bundled
 * command line (dist/pgferry.mjs), or the repository's dist/console when running from source (src/server).
 */
export function consoleDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'console'), join(here, '..', 'console'), join(here, '..', '..', 'dist', 'console')];
  return candidates.find((d) => existsSync(join(d, 'index.html'))) ?? candidates[0];
}

/** The file under `root` a request path names, or null when it leaves root or is no file. */
export function resolveStatic(root: string, urlPath: string): string | null {
  let path: string;
  try {
    path = decodeURIComponent(urlPath.split('?')[0]);
  } catch {
    return null;
  }
  if (path.includes('\0')) return null;
  const rel = path === '/' || path === '' ? 'index.html' : path.replace(/^\/+/, '');
  const base = resolve(root);
  const file = resolve(base, rel);
  if (file !== base && !file.startsWith(base + sep)) return null;
  try {
    return statSync(file).isFile() ? file : null;
  } catch {
    return null;
  }
}

/**
 * Answer a GET or HEAD for a console file; false when the request is not one (an /api path, another
 * method, or no such file), so the caller answers it.
 */
export function serveStatic(req: IncomingMessage, res: ServerResponse, root = consoleDir()): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const urlPath = (req.url ?? '/').split('?')[0];
  if (urlPath === '/api' || urlPath.startsWith('/api/')) return false;
  if ((urlPath === '/' || urlPath === '/index.html') && !existsSync(join(root, 'index.html'))) {
    res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', ...HEADERS });
    res.end('The pgferry console is not built: run `npm run build` (it bundles console/ into dist/console).\n');
    return true;
  }
  const file = resolveStatic(root, urlPath);
  if (!file) return false;
  const size = statSync(file).size;
  res.writeHead(200, {
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    'content-length': size,
    // index.html names app.js and app.css without a version: revalidate them every time
    'cache-control': 'no-cache',
    ...HEADERS,
  });
  if (req.method === 'HEAD') {
    res.end();
    return true;
  }
  createReadStream(file)
    .on('error', () => res.destroy())
    .pipe(res);
  return true;
}

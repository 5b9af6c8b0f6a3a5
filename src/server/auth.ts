/**
 * Who may talk to the service: every API request carries `Authorization: Bearer <token>`, compared
 * in constant time. The token is the one given (--token or $PGFERRY_TOKEN), else the one kept in
 * `<data dir>/.api-token` (0600), made of 32 random bytes at the first start and reused after.
 * No cookie is read, so a page of another site cannot act with the browser's credentials (CSRF).
 * The Host header must name this server — localhost, an IP address, the listen address, or a name
 * allowed with --allow-host — so a DNS name rebound to 127.0.0.1 cannot reach it (DNS rebinding).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { PgferryError } from '../core/errors.js';
import { touchPrivate } from '../state/private-file.js';
import { StateDir } from '../state/state-dir.js';
import { HttpError } from './http-error.js';

export const TOKEN_FILE = '.api-token';
const MIN_TOKEN = 16;

export interface ApiToken {
  value: string;
  /** Where it came from: the file it is kept in, or the option/variable it was given by. */
  from: string;
  /** Given by --token/$PGFERRY_TOKEN (not printed at start: whoever gave it knows it). */
  given: boolean;
}

function checked(token: string, from: string): string {
  const t = token.trim();
  if (t.length < MIN_TOKEN || /\s/.test(t)) {
    throw new PgferryError('usage', `the API token from ${from} is too short or holds spaces`, {
      hint: `give at least ${MIN_TOKEN} characters without spaces, e.g. the output of \`openssl rand -hex 32\``,
    });
  }
  return t;
}

/** The token given, else the data dir's token file (created with a random token when missing). */
export function loadToken(dataDir: string, given?: string, env: NodeJS.ProcessEnv = process.env): ApiToken {
  if (given) return { value: checked(given, '--token'), from: '--token', given: true };
  if (env.PGFERRY_TOKEN)
    return { value: checked(env.PGFERRY_TOKEN, '$PGFERRY_TOKEN'), from: '$PGFERRY_TOKEN', given: true };
  new StateDir(dataDir, '.').ensure();
  const p = join(dataDir, TOKEN_FILE);
  if (!existsSync(p) || statSync(p).size === 0) {
    touchPrivate(p);
    writeFileSync(p, `${randomBytes(32).toString('hex')}\n`);
  } else touchPrivate(p); // kept private even when an earlier mode was wider
  return { value: checked(readFileSync(p, 'utf8'), p), from: p, given: false };
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time equality (hashing first hides the length as well). */
export function sameToken(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

function bearerOf(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  const m = h ? /^Bearer[ ]+(\S+)\s*$/i.exec(h) : null;
  return m?.[1];
}

/** Whether the request carries the token. */
export function authenticated(req: IncomingMessage, token: string): boolean {
  const got = bearerOf(req);
  return got !== undefined && sameToken(got, token);
}

/** A 401 naming the cause and where the token is. */
export function unauthorized(req: IncomingMessage, token: ApiToken): HttpError {
  const got = bearerOf(req);
  const cause =
    got === undefined
      ? req.headers.authorization
        ? 'the Authorization header is not "Bearer <token>"'
        : 'this request carries no API token'
      : 'the API token is wrong';
  const where = token.given
    ? `the token given to pgferry serve by ${token.from}`
    : `the token printed by pgferry serve at start (the console URL's ?token=…), kept in ${token.from}`;
  return new HttpError(401, 'unauthorized', cause, `send the header "Authorization: Bearer <token>" with ${where}`);
}

const LOCAL_NAMES = new Set(['localhost', 'localhost.']);

/** The host of a Host header without its port, brackets removed, lower case. */
export function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined);
  const colon = h.lastIndexOf(':');
  return colon >= 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h;
}

/**
 * Whether the Host header names this server: localhost (and its subdomains), any IP address (a
 * rebound DNS name never arrives as one), the host it listens on, or a name in `allowed`.
 */
export function hostAllowed(header: string | undefined, listenHost: string, allowed: string[] = []): boolean {
  if (!header) return false;
  const name = hostName(header);
  if (!name) return false;
  if (LOCAL_NAMES.has(name) || name.endsWith('.localhost')) return true;
  if (isIP(name)) return true;
  const names = [listenHost, ...allowed].map((n) => n.toLowerCase().replace(/^\[|\]$/g, ''));
  return names.includes(name);
}

export function badHost(header: string | undefined): HttpError {
  return new HttpError(
    403,
    'bad_host',
    `the Host header "${header ?? ''}" does not name this server`,
    'open the console at http://127.0.0.1:<port>/ or http://localhost:<port>/; behind a proxy or under a DNS name, start pgferry serve with --allow-host <name>',
  );
}

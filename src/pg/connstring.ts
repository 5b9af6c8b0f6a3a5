/**
 * libpq-compatible connection strings: URIs and keyword/value strings, PG* environment
 * variables and ~/.pgpass, resolved into one `ConnSpec`.
 * https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING
 * https://www.postgresql.org/docs/current/libpq-envars.html
 * https://www.postgresql.org/docs/current/libpq-pgpass.html
 */
import { readFileSync, statSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { defaultRedactor, type Redactor } from '../core/redact.js';

export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

export interface ConnSpec {
  host: string; // host name, IP address, or a directory for a Unix socket
  port: number;
  database: string;
  user: string;
  password?: string;
  sslmode: SslMode;
  sslrootcert?: string;
  sslcert?: string;
  sslkey?: string;
  connectTimeoutSec: number;
  applicationName: string;
  options?: string;
  keepalives: boolean;
  keepalivesIdleSec: number;
}

export class ConnStringError extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
    this.name = 'ConnStringError';
  }
}

const KNOWN_KEYS = new Set([
  'host',
  'hostaddr',
  'port',
  'dbname',
  'user',
  'password',
  'passfile',
  'sslmode',
  'sslrootcert',
  'sslcert',
  'sslkey',
  'connect_timeout',
  'application_name',
  'fallback_application_name',
  'options',
  'keepalives',
  'keepalives_idle',
  'keepalives_interval',
  'keepalives_count',
  'target_session_attrs',
  'client_encoding',
  'sslcompression',
  'sslcrl',
  'requiressl',
  'gssencmode',
  'krbsrvname',
  'service',
  'tcp_user_timeout',
  'channel_binding',
  'sslsni',
  'ssl_min_protocol_version',
  'ssl_max_protocol_version',
]);

/**
 * Parse a URI or keyword/value string into raw keyword → value pairs (no defaults applied);
 * a password is registered with `secrets`.
 */
export function parseConnString(text: string, secrets: Redactor = defaultRedactor): Record<string, string> {
  const t = text.trim();
  if (/^postgres(ql)?:\/\//i.test(t)) return parseUri(t, secrets);
  if (t === '') return {};
  if (!t.includes('=')) {
    // A bare word is a database name, as with psql's first argument.
    return { dbname: t };
  }
  return parseKeywordValue(t, secrets);
}

function decode(s: string, what: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new ConnStringError(
      `invalid percent-encoding in the ${what} of the connection URI`,
      'encode special characters in URIs as %XX, e.g. "@" as %40 and "/" as %2F',
    );
  }
}

function parseUri(uri: string, secrets: Redactor): Record<string, string> {
  const out: Record<string, string> = {};
  let rest = uri.replace(/^postgres(ql)?:\/\//i, '');
  const q = rest.indexOf('?');
  let query = '';
  if (q >= 0) {
    query = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  const slash = rest.indexOf('/');
  let authority = rest;
  if (slash >= 0) {
    authority = rest.slice(0, slash);
    const db = rest.slice(slash + 1);
    if (db !== '') out.dbname = decode(db, 'database name');
  }
  const at = authority.lastIndexOf('@');
  if (at >= 0) {
    const userinfo = authority.slice(0, at);
    authority = authority.slice(at + 1);
    const colon = userinfo.indexOf(':');
    if (colon >= 0) {
      out.user = decode(userinfo.slice(0, colon), 'user name');
      out.password = decode(userinfo.slice(colon + 1), 'password');
      secrets.add(out.password);
    } else if (userinfo !== '') {
      out.user = decode(userinfo, 'user name');
    }
  }
  if (authority !== '') {
    // Only the first host of a multi-host list is used; pgferry talks to one primary.
    const first = authority.split(',')[0];
    let host = first;
    let port: string | undefined;
    if (first.startsWith('[')) {
      const end = first.indexOf(']');
      if (end < 0)
        throw new ConnStringError(`unterminated IPv6 address in connection URI`, 'write IPv6 hosts as [::1]');
      host = first.slice(1, end);
      const after = first.slice(end + 1);
      if (after.startsWith(':')) port = after.slice(1);
    } else {
      const c = first.lastIndexOf(':');
      if (c >= 0) {
        host = first.slice(0, c);
        port = first.slice(c + 1);
      }
    }
    if (host !== '') out.host = decode(host, 'host');
    if (port) out.port = port;
  }
  if (query !== '') {
    for (const pair of query.split('&')) {
      if (pair === '') continue;
      const eq = pair.indexOf('=');
      if (eq < 0)
        throw new ConnStringError(
          `URI parameter ${JSON.stringify(pair)} has no value`,
          'write parameters as key=value',
        );
      const key = decode(pair.slice(0, eq), 'parameter name');
      const value = decode(pair.slice(eq + 1).replace(/\+/g, ' '), 'parameter value');
      checkKey(key);
      out[key === 'ssl' ? 'sslmode' : key] = key === 'ssl' && value === 'true' ? 'require' : value;
      if (key === 'password') secrets.add(value);
    }
  }
  return out;
}

function checkKey(key: string): void {
  if (!KNOWN_KEYS.has(key) && key !== 'ssl') {
    throw new ConnStringError(
      `unknown connection parameter ${JSON.stringify(key)}`,
      'use libpq parameter names: host, port, dbname, user, password, sslmode, sslrootcert, connect_timeout, application_name, options',
    );
  }
}

function parseKeywordValue(text: string, secrets: Redactor): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  const n = text.length;
  const ws = () => {
    while (i < n && /\s/.test(text[i])) i++;
  };
  while (true) {
    ws();
    if (i >= n) break;
    let key = '';
    while (i < n && text[i] !== '=' && !/\s/.test(text[i])) key += text[i++];
    ws();
    if (text[i] !== '=') {
      throw new ConnStringError(
        `missing "=" after ${JSON.stringify(key)} in connection info string`,
        'write keyword/value pairs as key=value, e.g. "host=db1 port=5432 dbname=app"',
      );
    }
    i++;
    ws();
    let value = '';
    if (text[i] === "'") {
      i++;
      for (;;) {
        if (i >= n)
          throw new ConnStringError(
            'unterminated quoted value in connection info string',
            "close quoted values with ' and escape quotes as \\'",
          );
        const ch = text[i];
        if (ch === '\\' && i + 1 < n) {
          value += text[i + 1];
          i += 2;
          continue;
        }
        if (ch === "'") {
          i++;
          break;
        }
        value += ch;
        i++;
      }
    } else {
      while (i < n && !/\s/.test(text[i])) {
        if (text[i] === '\\' && i + 1 < n) {
          value += text[i + 1];
          i += 2;
          continue;
        }
        value += text[i++];
      }
    }
    checkKey(key);
    out[key] = value;
    if (key === 'password') secrets.add(value);
  }
  return out;
}

export interface ResolveOptions {
  env?: NodeJS.ProcessEnv;
  /** Overrides the ~/.pgpass location (PGPASSFILE / passfile still win). */
  home?: string;
  /** Learns the password, wherever it comes from (default: the command line's redactor). */
  redactor?: Redactor;
}

/** Apply libpq's precedence: explicit parameters, then PG* variables, then defaults; then .pgpass. */
export function resolveConnSpec(text: string, opts: ResolveOptions = {}): ConnSpec {
  const env = opts.env ?? process.env;
  const secrets = opts.redactor ?? defaultRedactor;
  const raw = parseConnString(text, secrets);
  const pick = (key: string, envName: string): string | undefined => raw[key] ?? (env[envName] || undefined);
  const osUser = safeOsUser();
  const host = raw.host ?? raw.hostaddr ?? env.PGHOST ?? env.PGHOSTADDR ?? '/var/run/postgresql';
  const portText = pick('port', 'PGPORT') ?? '5432';
  const port = Number(portText.split(',')[0]);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new ConnStringError(`invalid port ${JSON.stringify(portText)}`, 'give a port number between 1 and 65535');
  }
  const user = pick('user', 'PGUSER') ?? osUser;
  const database = pick('dbname', 'PGDATABASE') ?? user;
  const sslrootcert = pick('sslrootcert', 'PGSSLROOTCERT');
  // libpq 16+: the system CAs vouch for any host that can get a public certificate, so with
  // sslrootcert=system only verify-full means anything (and is the default).
  const defaultMode = sslrootcert === 'system' ? 'verify-full' : 'prefer';
  const sslmodeText = (pick('sslmode', 'PGSSLMODE') ?? defaultMode).toLowerCase();
  if (!(SSL_MODES as readonly string[]).includes(sslmodeText)) {
    throw new ConnStringError(`invalid sslmode ${JSON.stringify(sslmodeText)}`, `use one of: ${SSL_MODES.join(', ')}`);
  }
  if (sslrootcert === 'system' && sslmodeText !== 'verify-full') {
    throw new ConnStringError(
      `weak sslmode "${sslmodeText}" may not be used with sslrootcert=system`,
      'use sslmode=verify-full with the system CAs, or give sslrootcert=/path/to/ca.crt for verify-ca',
    );
  }
  const timeoutText = pick('connect_timeout', 'PGCONNECT_TIMEOUT') ?? '10';
  const connectTimeoutSec = Number(timeoutText);
  if (!Number.isFinite(connectTimeoutSec) || connectTimeoutSec < 0) {
    throw new ConnStringError(
      `invalid connect_timeout ${JSON.stringify(timeoutText)}`,
      'give a number of seconds (0 means wait forever)',
    );
  }
  let password: string | undefined = raw.password ?? (env.PGPASSWORD || undefined);
  if (password) secrets.add(password);
  if (password === undefined) {
    const passfile = raw.passfile ?? env.PGPASSFILE ?? join(opts.home ?? safeHome(), '.pgpass');
    password = lookupPgpass(passfile, host, port, database, user, secrets);
  }
  const keepalivesText = raw.keepalives ?? '1';
  return {
    host,
    port,
    database,
    user,
    password,
    sslmode: sslmodeText as SslMode,
    sslrootcert,
    sslcert: pick('sslcert', 'PGSSLCERT'),
    sslkey: pick('sslkey', 'PGSSLKEY'),
    connectTimeoutSec: connectTimeoutSec === 0 ? 0 : Math.max(2, connectTimeoutSec),
    applicationName: raw.application_name ?? env.PGAPPNAME ?? 'pgferry',
    options: pick('options', 'PGOPTIONS'),
    keepalives: keepalivesText !== '0',
    keepalivesIdleSec: Number(raw.keepalives_idle ?? '30') || 30,
  };
}

function safeOsUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'postgres';
  }
}
function safeHome(): string {
  try {
    return homedir();
  } catch {
    return '/';
  }
}

/** ~/.pgpass lookup: hostname:port:database:username:password, `*` wildcards, `\:` and `\\` escapes. */
export function lookupPgpass(
  file: string,
  host: string,
  port: number,
  database: string,
  user: string,
  secrets: Redactor = defaultRedactor,
): string | undefined {
  let text: string;
  try {
    const st = statSync(file);
    // libpq ignores a password file readable by group or others.
    if (!st.isFile() || (st.mode & 0o077) !== 0) return undefined;
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const hostForMatch = host.startsWith('/') ? 'localhost' : host;
  for (const line of text.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue;
    const fields: string[] = [];
    let cur = '';
    for (let i = 0; i < line.length; i++) {
      const ch = line[i];
      if (ch === '\\' && i + 1 < line.length) {
        cur += line[++i];
        continue;
      }
      if (ch === ':' && fields.length < 4) {
        fields.push(cur);
        cur = '';
        continue;
      }
      cur += ch;
    }
    fields.push(cur);
    if (fields.length < 5) continue;
    const [h, p, d, u, pw] = fields as [string, string, string, string, string];
    const m = (pattern: string, value: string) => pattern === '*' || pattern === value;
    if (m(h, hostForMatch) && m(p, String(port)) && m(d, database) && m(u, user)) {
      secrets.add(pw);
      return pw;
    }
  }
  return undefined;
}

/** A display form of the connection that never contains the password. */
export function describeConn(spec: ConnSpec): string {
  const host = spec.host.startsWith('/')
    ? `socket ${spec.host}`
    : spec.host.includes(':')
      ? `[${spec.host}]`
      : spec.host;
  return `${spec.user}@${host}:${spec.port}/${spec.database}`;
}

/** A libpq URI for the connection, password left out (for echoing configs and for child tools). */
export function toSafeUri(spec: ConnSpec): string {
  const enc = encodeURIComponent;
  const hostPart = spec.host.startsWith('/') ? '' : spec.host.includes(':') ? `[${spec.host}]` : enc(spec.host);
  const params = new URLSearchParams();
  if (spec.host.startsWith('/')) params.set('host', spec.host);
  if (spec.sslmode !== 'prefer') params.set('sslmode', spec.sslmode);
  if (spec.sslrootcert) params.set('sslrootcert', spec.sslrootcert);
  const qs = params.toString();
  return `postgresql://${enc(spec.user)}@${hostPart}:${spec.port}/${enc(spec.database)}${qs ? '?' + qs : ''}`;
}

/**
 * The one way pgferry opens a PostgreSQL session. Turns a ConnSpec into a node-postgres
 * client with libpq's sslmode semantics, keepalives, application_name and timeouts, and
 * turns failures into a ConnectError with a classified cause.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import pg from 'pg';
import { PgferryError } from '../core/errors.js';
import { classifyConnectError, type ConnectCause } from './classify.js';
import { describeConn, type ConnSpec } from './connstring.js';
import { rememberStartPath } from './search-path.js';
import { pgferryTypes } from './types.js';

export class ConnectError extends PgferryError {
  constructor(
    readonly side: string,
    readonly connCause: ConnectCause,
    message: string,
    hint: string,
    readonly sqlstate: string | undefined,
    cause: unknown,
  ) {
    super('connect', `${side}: ${message}`, { hint, cause });
    this.name = 'ConnectError';
  }
}

export interface ConnectOptions {
  /** "source" or "target", used in messages. */
  label: string;
  /** Extra suffix for application_name, e.g. "copy-3", so backends can be told apart. */
  role?: string;
  /** A logical replication session (walsender in database mode), for change capture. */
  replication?: 'database';
}

type SslSetting = false | ConnectionOptions;

/** Remembered per spec after the first success so that "prefer"/"allow" probe only once. */
const sslDecision = new WeakMap<ConnSpec, SslSetting>();

/** libpq's root certificate file: sslrootcert, else ~/.postgresql/root.crt ($HOME first, as libpq). */
export function rootCertFile(spec: ConnSpec): string {
  return spec.sslrootcert || join(homedir(), '.postgresql', 'root.crt');
}

/** Does this spec verify the server certificate? As libpq: whenever a root certificate is there, in any sslmode. */
function verifiesCert(spec: ConnSpec): boolean {
  return spec.sslrootcert === 'system' || existsSync(rootCertFile(spec));
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new PgferryError('connect', `cannot read the ${what} ${path}: ${(e as Error).message}`, {
      hint: `make ${path} a readable PEM file, or point the connection string's ssl parameter at one`,
    });
  }
}

/**
 * TLS options with libpq's sslmode semantics: a root certificate (sslrootcert, or
 * ~/.postgresql/root.crt when present) means the server certificate is verified against it —
 * with sslmode=require that is verify-ca, as libpq documents; verify-ca/verify-full demand it;
 * verify-full also checks the host name. Without a root certificate, require/prefer/allow
 * encrypt without verifying.
 */
function sslFor(spec: ConnSpec, wantTls: boolean): SslSetting {
  if (!wantTls || spec.host.startsWith('/')) return false;
  const base: ConnectionOptions = {};
  if (spec.sslcert) base.cert = readPem(spec.sslcert, 'client certificate (sslcert)');
  if (spec.sslkey) base.key = readPem(spec.sslkey, 'client key (sslkey)');
  const rootPath = rootCertFile(spec);
  if (!verifiesCert(spec)) {
    if (spec.sslmode === 'verify-ca' || spec.sslmode === 'verify-full') {
      throw new PgferryError(
        'connect',
        `sslmode=${spec.sslmode} needs a root certificate, and ${rootPath} does not exist`,
        {
          hint: 'give sslrootcert=/path/to/ca.crt (the CA that signed the server certificate), or sslrootcert=system for the system CAs',
        },
      );
    }
    return { ...base, rejectUnauthorized: false };
  }
  if (spec.sslrootcert !== 'system') base.ca = readPem(rootPath, 'root certificate');
  base.rejectUnauthorized = true;
  if (spec.sslmode !== 'verify-full') base.checkServerIdentity = () => undefined;
  else if (!/^[0-9.]+$|:/.test(spec.host)) base.servername = spec.host;
  return base;
}

function clientConfig(spec: ConnSpec, ssl: SslSetting, opts: ConnectOptions): pg.ClientConfig {
  return {
    host: spec.host,
    port: spec.port,
    database: spec.database,
    user: spec.user,
    password: spec.password,
    ssl,
    application_name: opts.role ? `${spec.applicationName}:${opts.role}` : spec.applicationName,
    connectionTimeoutMillis: spec.connectTimeoutSec * 1000,
    keepAlive: spec.keepalives,
    keepAliveInitialDelayMillis: spec.keepalivesIdleSec * 1000,
    options: spec.options,
    types: pgferryTypes,
    ...(opts.replication ? { replication: opts.replication } : {}),
  };
}

/**
 * How every session writes and reads values as text, whatever the server's, the database's or the
 * role's defaults: rows travel as text (text COPY, change capture's pgoutput, catalog expressions such
 * as column defaults) from a session on one server to a session on another, which must read them as
 * the same values. A date written day first ('SQL, DMY': 01/02/2024 is 1 February) and read month first
 * would land as 2 January. ISO dates and postgres-style intervals read back alike everywhere, and are
 * what the client's own type parsers expect; floats go in their shortest exact form.
 */
export const VALUE_STYLES = `SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET extra_float_digits = 3`;

/**
 * Every session runs with only pg_catalog on its search_path, as pg_dump's do: a user who may create
 * functions in a schema on the path (public on PostgreSQL 14 and older) could otherwise plant an
 * overload of a built-in that PostgreSQL prefers for the argument types pgferry passes (an oid where
 * pg_catalog's takes a regclass) and run it with pgferry's rights. pgferry's own SQL names every
 * object schema-qualified. The path the session started with (the role's and database's defaults,
 * or the connection string's options) is read in the same statement, for row filters: see
 * ./search-path.ts. Sent with VALUE_STYLES in one round trip.
 */
export const SESSION_SETUP = `${VALUE_STYLES}; SELECT pg_catalog.current_setting('search_path') AS path, pg_catalog.set_config('search_path', '', false)`;

async function tryConnect(spec: ConnSpec, ssl: SslSetting, opts: ConnectOptions): Promise<pg.Client> {
  const client = new pg.Client(clientConfig(spec, ssl, opts));
  // An idle client whose server goes away emits 'error'; without a listener Node would
  // crash the process. The next query on it fails and is handled (retried) there.
  client.on('error', () => {});
  try {
    await client.connect();
    const results = (await client.query(SESSION_SETUP)) as unknown as pg.QueryResult<{ path: string }>[];
    rememberStartPath(client, results[results.length - 1].rows[0].path);
    return client;
  } catch (e) {
    client.end().catch(() => {});
    throw e;
  }
}

/** Open one session; throws ConnectError with a classified cause. */
export async function connect(spec: ConnSpec, opts: ConnectOptions): Promise<pg.Client> {
  const known = sslDecision.get(spec);
  try {
    if (known !== undefined) return await tryConnect(spec, known, opts);
    const mode = spec.sslmode;
    const first = sslFor(spec, mode !== 'disable' && mode !== 'allow');
    try {
      const c = await tryConnect(spec, first, opts);
      sslDecision.set(spec, first);
      return c;
    } catch (e) {
      const msg = e instanceof Error ? e.message : '';
      // libpq: prefer falls back to an unencrypted session when the server has no TLS or the
      // TLS handshake fails (a certificate that does not verify against root.crt included).
      const tlsFailed = first !== false && classifyConnectError(e, spec).cause === 'tls_failed';
      if (mode === 'prefer' && (/does not support SSL/i.test(msg) || tlsFailed)) {
        // When the plain session is refused too, the certificate is the problem to report.
        const c = await tryConnect(spec, false, opts).catch((e2) => Promise.reject(tlsFailed ? e : e2));
        sslDecision.set(spec, false);
        return c;
      }
      if (mode === 'allow' && /no encryption/i.test(msg)) {
        const second = sslFor(spec, true);
        const c = await tryConnect(spec, second, opts);
        sslDecision.set(spec, second);
        return c;
      }
      throw e;
    }
  } catch (e) {
    if (e instanceof PgferryError) throw e;
    const f = classifyConnectError(e, spec);
    if (f.cause === 'tls_required' && spec.sslmode === 'disable') {
      // pg_hba.conf refused an unencrypted session: TLS is the way in only if the server
      // speaks TLS and an encrypted session gets past pg_hba; otherwise it is a plain reject.
      const viaTls = await tryConnect(spec, sslFor({ ...spec, sslmode: 'require' }, true), opts).then(
        (c) => {
          c.end().catch(() => {});
          return true;
        },
        (e2) => !/does not support SSL|pg_hba\.conf/i.test(e2 instanceof Error ? e2.message : ''),
      );
      if (!viaTls) {
        const hint = `pg_hba.conf rejects user "${spec.user}" to database "${spec.database}" from this address; add a host line for it and reload the server`;
        throw new ConnectError(
          opts.label,
          'not_allowed',
          `cannot connect to ${describeConn(spec)}: ${f.message}`,
          hint,
          f.sqlstate,
          e,
        );
      }
    }
    const hint = tlsHint(spec, f.cause) ?? f.hint;
    const message = `cannot connect to ${describeConn(spec)}: ${f.message}`;
    throw new ConnectError(opts.label, f.cause, message, hint, f.sqlstate, e);
  }
}

/** A certificate check the user did not ask for by sslmode: say where it comes from. */
function tlsHint(spec: ConnSpec, cause: ConnectCause): string | undefined {
  if (cause !== 'tls_failed' || spec.sslmode.startsWith('verify-') || !verifiesCert(spec)) return undefined;
  const root = rootCertFile(spec);
  return (
    `the server certificate is verified against ${root} because that root certificate is present ` +
    `(as libpq does, sslmode=${spec.sslmode} then acts as verify-ca); put the CA that signed the server ` +
    'certificate there, or give sslrootcert=<that CA file>'
  );
}

/** Run `fn` with a fresh session and always close it. */
export async function withClient<T>(
  spec: ConnSpec,
  opts: ConnectOptions,
  fn: (c: pg.Client) => Promise<T>,
): Promise<T> {
  const c = await connect(spec, opts);
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => {});
  }
}

/** server_version_num of a connected client. */
export async function serverVersionNum(c: pg.Client): Promise<number> {
  const r = await c.query<{ v: string }>("SELECT current_setting('server_version_num') AS v");
  return Number(r.rows[0].v);
}

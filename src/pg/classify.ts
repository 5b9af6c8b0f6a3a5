/**
 * Why a connection attempt failed, as one of a fixed set of causes, each with a fix hint.
 * Used by `pgferry ping`, precheck and every connect in the engine.
 */
import { isPgError } from '../core/errors.js';
import { quoteIdent } from '../core/ident.js';

export type ConnectCause =
  | 'unknown_host'
  | 'connection_refused'
  | 'timeout'
  | 'unreachable'
  | 'auth_failed'
  | 'password_missing'
  | 'role_not_found'
  | 'not_allowed' // pg_hba.conf has no entry
  | 'database_not_found'
  | 'tls_required' // server demands TLS but sslmode=disable
  | 'tls_unsupported' // sslmode demands TLS but the server has none
  | 'tls_failed' // certificate / handshake problem
  | 'too_many_connections'
  | 'server_not_ready'
  | 'unknown';

export interface ConnectFailure {
  cause: ConnectCause;
  message: string;
  hint: string;
  sqlstate?: string;
}

const HINTS: Record<ConnectCause, (ctx: { host: string; port: number; database: string; user: string }) => string> = {
  unknown_host: (c) => `the host name "${c.host}" does not resolve; check the spelling or DNS, or use an IP address`,
  connection_refused: (c) =>
    `nothing listens on ${c.host}:${c.port}; check that PostgreSQL is running, the port, and listen_addresses in postgresql.conf`,
  timeout: (c) =>
    `no answer from ${c.host}:${c.port} in time; check firewalls/security groups and routing, or raise connect_timeout`,
  unreachable: (c) => `${c.host} is unreachable from this machine; check routing, VPN and firewall rules`,
  auth_failed: (c) =>
    `password authentication failed for user "${c.user}"; check the password (URI, PGPASSWORD or ~/.pgpass)`,
  password_missing: (c) =>
    `the server asks user "${c.user}" for a password and none was given; put it in ~/.pgpass or PGPASSWORD`,
  role_not_found: (c) =>
    `role "${c.user}" does not exist on the server; create it (CREATE ROLE ${quoteIdent(c.user)} LOGIN PASSWORD '…') or connect as another user`,
  not_allowed: (c) =>
    `pg_hba.conf has no entry for user "${c.user}", database "${c.database}" from this address; add a host line for it and reload the server`,
  database_not_found: (c) =>
    `database "${c.database}" does not exist; create it (CREATE DATABASE ${quoteIdent(c.database)}) or fix dbname`,
  tls_required: () =>
    `the server accepts only encrypted connections; use sslmode=require (or verify-full with sslrootcert)`,
  tls_unsupported: () =>
    `the server does not support SSL; use sslmode=prefer or disable, or enable ssl=on on the server`,
  tls_failed: () =>
    `the TLS handshake or certificate check failed; check sslrootcert (the CA that signed the server certificate) and that the host name matches it, or, to encrypt without verifying, use sslmode=require with no sslrootcert and no ~/.postgresql/root.crt (libpq verifies the chain whenever a root certificate is present)`,
  too_many_connections: () =>
    `the server has no free connection slots; close idle sessions, raise max_connections, or lower --jobs`,
  server_not_ready: () => `the server is starting up, shutting down or in recovery; wait and retry`,
  unknown: () => `see the message above`,
};

export function classifyConnectError(
  err: unknown,
  ctx: { host: string; port: number; database: string; user: string },
): ConnectFailure {
  const e = err as { code?: string; message?: string };
  const message = (err instanceof Error ? err.message : String(err)) || String(e.code ?? 'connection failed');
  let cause: ConnectCause = 'unknown';
  const code = e?.code;
  if (isPgError(err)) {
    switch (err.code) {
      case '28P01':
        cause = 'auth_failed';
        break;
      case '28000':
        if (/pg_hba\.conf/i.test(message)) cause = /no encryption/i.test(message) ? 'tls_required' : 'not_allowed';
        else if (/role .* does not exist/i.test(message)) cause = 'role_not_found';
        else cause = 'auth_failed';
        break;
      case '3D000':
        cause = 'database_not_found';
        break;
      case '53300':
      case '53400':
        cause = 'too_many_connections';
        break;
      case '57P03':
        cause = 'server_not_ready';
        break;
    }
  } else if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') {
    cause = 'unknown_host';
  } else if (code === 'ECONNREFUSED' || (code === 'ENOENT' && /\.s\.PGSQL/.test(message))) {
    cause = 'connection_refused';
  } else if (code === 'ETIMEDOUT' || /timeout/i.test(message)) {
    cause = 'timeout';
  } else if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    cause = 'unreachable';
  } else if (/does not support SSL/i.test(message)) {
    cause = 'tls_unsupported';
  } else if (
    (typeof code === 'string' &&
      /^(ERR_TLS|ERR_SSL|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|HOSTNAME_MISMATCH)/.test(code)) ||
    /certificate|self[- ]signed|TLS|SSL/i.test(message)
  ) {
    cause = 'tls_failed';
  } else if (/client password must be a string|password must be a string|no password supplied/i.test(message)) {
    cause = 'password_missing';
  } else if (/Connection terminated unexpectedly/i.test(message)) {
    cause = 'unknown';
  }
  return { cause, message, hint: HINTS[cause](ctx), sqlstate: isPgError(err) ? err.code : undefined };
}

/**
 * Typed errors. Each carries a stable `code`, a sentence on the fix (`hint`) and, for errors
 * coming from PostgreSQL, the server's fields. Exit codes are decided only in the CLI layer.
 */
import { defaultRedactor, redact, type Redactor } from './redact.js';

export type ErrorKind =
  | 'usage' // bad flags, bad task file
  | 'connect' // cannot reach/log into a server
  | 'precheck' // precheck found blocking problems
  | 'schema' // a DDL statement failed on the target
  | 'data' // copy failed permanently
  | 'transient' // retries exhausted on a transient failure
  | 'verify' // verification found differences
  | 'state' // task state unreadable/inconsistent
  | 'interrupted' // SIGINT/SIGTERM; a rerun resumes
  | 'internal';

export class PgferryError extends Error {
  readonly kind: ErrorKind;
  readonly hint?: string;
  constructor(kind: ErrorKind, message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(redact(message), opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'PgferryError';
    this.kind = kind;
    this.hint = opts.hint ? redact(opts.hint) : undefined;
  }
}

/** Fields node-postgres copies from an ErrorResponse message. */
export interface PgErrorFields {
  code?: string;
  detail?: string;
  hint?: string;
  position?: string;
  schema?: string;
  table?: string;
  column?: string;
  constraint?: string;
  where?: string;
}

/** An ErrorResponse from a PostgreSQL server (not a Node socket error such as EPIPE). */
export function isPgError(e: unknown): e is Error & PgErrorFields & { code: string; severity: string } {
  if (!(e instanceof Error)) return false;
  const f = e as unknown as { code?: unknown; severity?: unknown };
  return typeof f.code === 'string' && /^[0-9A-Z]{5}$/.test(f.code) && typeof f.severity === 'string';
}

/** A statement that failed on a server, with PostgreSQL's message, detail and hint and the object it was for. */
export class StatementError extends PgferryError {
  readonly sqlstate?: string;
  readonly statement: string;
  readonly object?: string;
  readonly detail?: string;
  readonly pgHint?: string;
  constructor(kind: ErrorKind, statement: string, cause: unknown, object?: string) {
    const pg = isPgError(cause) ? cause : undefined;
    const msg = cause instanceof Error ? cause.message : String(cause);
    const parts = [`${object ? object + ': ' : ''}${msg}`];
    if (pg?.detail) parts.push(`DETAIL: ${pg.detail}`);
    if (pg?.hint) parts.push(`HINT: ${pg.hint}`);
    parts.push(`STATEMENT: ${statement.length > 2000 ? statement.slice(0, 2000) + ' …' : statement}`);
    super(kind, parts.join('\n'), { cause });
    this.sqlstate = pg?.code;
    this.statement = statement;
    this.object = object;
    this.detail = pg?.detail;
    this.pgHint = pg?.hint;
  }
}

export function errorMessage(e: unknown, by: Redactor = defaultRedactor): string {
  if (e instanceof Error) return by.redact(e.message);
  return by.redact(String(e));
}

/**
 * A statement refused for lack of a privilege (SQLSTATE 42501, or "must be owner/member"):
 * the message names the statement and object as StatementError does, and `fix` holds the SQL
 * (a GRANT, a membership) that a DBA runs to let it pass.
 */
export class PrivilegeError extends StatementError {
  readonly fix: string;
  constructor(kind: ErrorKind, statement: string, cause: unknown, object: string | undefined, fix: string) {
    super(kind, statement, cause, object);
    this.fix = fix;
    this.message = redact(`${this.message}\nFIX (run as a superuser or the object's owner): ${fix}`);
    (this as { hint?: string }).hint = redact(`run as a superuser or the object's owner: ${fix}`);
    this.name = 'PrivilegeError';
  }
}

/** SQLSTATEs of refused privileges: insufficient_privilege, and "must be owner" (also 42501). */
export function isPrivilegeError(e: unknown): boolean {
  return isPgError(e) && e.code === '42501';
}

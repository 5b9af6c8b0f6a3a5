/**
 * From a refused statement (SQLSTATE 42501) to the SQL that fixes it: which grant or membership
 * is missing, with the real role and object names. Used wherever pgferry runs statements as the
 * migration accounts, so a privilege problem is never an "internal error".
 */
import { PrivilegeError, StatementError, isPrivilegeError, type ErrorKind } from './errors.js';
import { quoteIdent } from './ident.js';

const KINDS: Record<string, string> = {
  schema: 'SCHEMA',
  database: 'DATABASE',
  table: 'TABLE',
  sequence: 'SEQUENCE',
  view: 'TABLE',
  function: 'FUNCTION',
  'materialized view': 'TABLE',
  type: 'TYPE',
  'large object': 'LARGE OBJECT',
  'foreign table': 'TABLE',
  procedure: 'PROCEDURE',
};

/** "public.t" or "t" as PostgreSQL prints it → quoted; large object oids stay numbers. */
function objName(kind: string, name: string): string {
  if (kind === 'large object') return name;
  return name
    .split('.')
    .map((p) => quoteIdent(p.replace(/^"|"$/g, '')))
    .join('.');
}

/** The new owner named by an ALTER … OWNER TO statement. */
function newOwner(sql: string): string | undefined {
  const m = /\bOWNER TO\s+("(?:[^"]|"")+"|[\w$]+)/i.exec(sql);
  return m ? m[1] : undefined;
}

function largeObjectFix(oid: string, sql: string, who: string): string {
  const writes = /\blo_(put|create|unlink)\b|LARGE OBJECT/i.test(sql) && !/lo_get|lo_open/i.test(sql);
  return `GRANT ${writes ? 'UPDATE' : 'SELECT'} ON LARGE OBJECT ${oid} TO ${who};`;
}

function denied(kind: string, name: string, sql: string, who: string): string {
  const n = objName(kind, name);
  if (name === 'pg_largeobject' || name === 'pg_catalog.pg_largeobject') {
    return (
      `GRANT SELECT ON LARGE OBJECT … TO ${who}; for each large object (pgferry precheck --grants lists them), ` +
      'or ALTER SYSTEM SET lo_compat_privileges = on;'
    );
  }
  // ALTER … OWNER TO: the new owner lacks CREATE on the schema (or, for a schema, on the database).
  const owner = newOwner(sql);
  if (owner && (kind === 'schema' || kind === 'database')) return `GRANT CREATE ON ${KINDS[kind]} ${n} TO ${owner};`;
  switch (kind) {
    case 'schema':
      return `GRANT USAGE, CREATE ON SCHEMA ${n} TO ${who};`;
    case 'database':
      return `GRANT CONNECT, CREATE ON DATABASE ${n} TO ${who};`;
    case 'large object':
      return largeObjectFix(n, sql, who);
    case 'function':
    case 'procedure':
      return `GRANT EXECUTE ON ${KINDS[kind]} ${n} TO ${who};`;
    case 'type':
      return `GRANT USAGE ON TYPE ${n} TO ${who};`;
    case 'sequence':
      return `GRANT SELECT, USAGE ON SEQUENCE ${n} TO ${who};`;
    default:
      if (KINDS[kind]) return `GRANT SELECT ON ${KINDS[kind]} ${n} TO ${who};`;
      return `GRANT the needed privilege on ${kind} ${name} TO ${who};`;
  }
}

/** The SQL that lets `who` (the connected account, quoted) run `sql`, from PostgreSQL's message. */
export function privilegeFix(message: string, sql: string, who: string): string {
  const perm = /permission denied for (large object|materialized view|foreign table|[a-z]+) (.+)$/.exec(message);
  if (perm) return denied(perm[1], perm[2].trim(), sql, who);
  const member = /must be (?:a )?member of role "?([^"]+)"?|must be able to SET ROLE "([^"]+)"/.exec(message);
  if (member) return `GRANT ${quoteIdent(member[1] ?? member[2])} TO ${who};`;
  const owner = /must be owner of ([a-z ]+?) (\S+)$/.exec(message);
  if (owner) {
    const kw = KINDS[owner[1]] ?? owner[1].toUpperCase();
    return (
      `make ${who} a member of the owner of ${owner[1]} ${owner[2]} (GRANT <owner> TO ${who};) ` +
      `or ALTER ${kw} ${objName(owner[1], owner[2])} OWNER TO ${who};`
    );
  }
  if (/permission denied to create role/i.test(message)) {
    return 'create the roles as a DBA first (pgferry precheck --grants prints them)';
  }
  return `grant ${who} the privilege the statement needs, or run it as the object's owner`;
}

/** A StatementError, or a PrivilegeError with its fix when the server refused a privilege. */
export function statementError(
  kind: ErrorKind,
  statement: string,
  cause: unknown,
  object: string | undefined,
  who: string,
): StatementError {
  if (!isPrivilegeError(cause)) return new StatementError(kind, statement, cause, object);
  const msg = cause instanceof Error ? cause.message : String(cause);
  return new PrivilegeError(kind, statement, cause, object, privilegeFix(msg, statement, who));
}

/**
 * The last stop for a refused privilege that reached the runner untyped (the checkpoint schema,
 * catalog reads): a PrivilegeError naming the missing grant, never an "internal error".
 */
export function typedPrivilegeError(e: unknown, who: string): unknown {
  if (e instanceof StatementError) return e;
  const refused = privilegeCause(e);
  if (refused === undefined) return e;
  const msg = refused instanceof Error ? refused.message : String(refused);
  const fix = privilegeFix(msg, '', quoteIdent(who));
  return new PrivilegeError('data', '(a checkpoint or catalog statement of pgferry)', refused, undefined, fix);
}

/** The refused-privilege server error in `e` or in its chain of causes (retries wrap what they give up on). */
function privilegeCause(e: unknown): unknown {
  for (let x: unknown = e, depth = 0; x !== undefined && x !== null && depth < 8; depth++) {
    if (x instanceof StatementError) return undefined;
    if (isPrivilegeError(x)) return x;
    x = (x as { cause?: unknown }).cause;
  }
  return undefined;
}

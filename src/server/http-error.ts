/**
 * Errors as the API returns them: `{ error: { cause, fix, code, field? } }` with the HTTP status that
 * fits — 400 bad input, 404 unknown task, 409 state conflict, 502 a database unreachable, 500
 * otherwise. cause and fix are the texts the command line prints (message and hint), passwords removed.
 */
import { PgferryError, type ErrorKind } from '../core/errors.js';
import { defaultRedactor, type Redactor } from '../core/redact.js';

export interface ApiError {
  cause: string;
  fix: string;
  code: string;
  field?: string;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    cause: string,
    readonly fix: string,
    readonly field?: string,
  ) {
    super(cause);
    this.name = 'HttpError';
  }
}

const STATUS: Record<ErrorKind, number> = {
  usage: 400,
  connect: 502,
  precheck: 409,
  schema: 500,
  data: 500,
  transient: 502,
  verify: 500,
  state: 409,
  interrupted: 409,
  internal: 500,
};

export const notFound = (id: string): HttpError =>
  new HttpError(404, 'not_found', `no task "${id}"`, 'check the task id (GET /api/tasks lists them)');

export const conflict = (cause: string, fix: string): HttpError => new HttpError(409, 'conflict', cause, fix);

export const badRequest = (cause: string, fix: string, field?: string): HttpError =>
  new HttpError(400, 'bad_request', cause, fix, field);

/** The status and body of any error thrown by a handler. */
export function toApiError(e: unknown, r: Redactor = defaultRedactor): { status: number; body: { error: ApiError } } {
  const clean = (s: string) => r.redact(s);
  if (e instanceof HttpError) {
    const error: ApiError = { cause: clean(e.message), fix: clean(e.fix), code: e.code };
    if (e.field) error.field = e.field;
    return { status: e.status, body: { error } };
  }
  if (e instanceof PgferryError) {
    const error = { cause: clean(e.message), fix: clean(e.hint ?? ''), code: e.kind };
    return { status: STATUS[e.kind], body: { error } };
  }
  if (e instanceof Error && e.name === 'ConnStringError') {
    const fix = (e as { hint?: string }).hint ?? 'fix the connection string';
    return { status: 400, body: { error: { cause: clean(e.message), fix: clean(fix), code: 'usage' } } };
  }
  const cause = e instanceof Error ? e.message : String(e);
  const fix = 'see the server log; report it if it persists';
  return { status: 500, body: { error: { cause: clean(cause), fix, code: 'internal' } } };
}

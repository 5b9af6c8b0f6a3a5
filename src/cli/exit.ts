/**
 * Exit codes, decided only here.
 *   0  everything done / every check passed
 *   1  failed: a permanent error (a statement failed, bad data, internal error)
 *   2  usage: bad flags, bad task file, bad connection string
 *   3  connection failed (ping, or a side unreachable at start)
 *   4  precheck failed: an error-level item blocks the start
 *   5  verification found differences
 *   6  transient failure outlasted the retry time (rerun resumes)
 *   7  task state problem (already running, unreadable state)
 *   130 interrupted (SIGINT/SIGTERM); rerun resumes
 */
import { PgferryError, type ErrorKind } from '../core/errors.js';
import { ConnStringError } from '../pg/connstring.js';

export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  connect: 3,
  precheck: 4,
  verify: 5,
  transient: 6,
  state: 7,
  interrupted: 130,
} as const;

const BY_KIND: Record<ErrorKind, number> = {
  usage: EXIT.usage,
  connect: EXIT.connect,
  precheck: EXIT.precheck,
  schema: EXIT.failed,
  data: EXIT.failed,
  transient: EXIT.transient,
  verify: EXIT.verify,
  state: EXIT.state,
  interrupted: EXIT.interrupted,
  internal: EXIT.failed,
};

export function exitCodeFor(e: unknown): number {
  if (e instanceof ConnStringError) return EXIT.usage;
  if (e instanceof PgferryError) return BY_KIND[e.kind];
  return EXIT.failed;
}

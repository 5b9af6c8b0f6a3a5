/**
 * The search_path a session started with, and the one place it is put back: around statements that
 * embed a row filter. Every pgferry session otherwise runs with an empty search_path (only pg_catalog
 * is searched, see SESSION_SETUP in ./connect.ts). A row filter is user SQL that may name the user's
 * own functions and tables unqualified, as in psql: it resolves with the path the source session
 * started with (the role's and database's defaults, or the connection string's `options`), set local
 * to the transaction that evaluates it and emptied again right after. Whatever pgferry adds to such a
 * statement is schema-qualified, so that the user's path changes only what the filter itself names.
 */
import type pg from 'pg';

const startPaths = new WeakMap<pg.Client, string>();

/** Called by connect() with what `current_setting('search_path')` said before it was emptied. */
export function rememberStartPath(c: pg.Client, path: string): void {
  startPaths.set(c, path);
}

/** The search_path the session started with; undefined for a client that connect() did not open. */
export function startPath(c: pg.Client): string | undefined {
  return startPaths.get(c);
}

const SET_LOCAL = `SELECT pg_catalog.set_config('search_path', $1, true)`;

/**
 * Run `fn` (statements embedding a row filter) with the session's starting search_path: inside the
 * session's transaction when it is in one (the empty path is set back afterwards), else in a
 * transaction of its own (BEGIN … COMMIT, which takes the local setting with it). A client that
 * connect() did not open keeps its path. `path`: another session's starting path (a target read
 * compared with a filtered source read prints reg* values relative to the same path).
 */
export async function withStartPath<T>(
  c: pg.Client,
  fn: () => Promise<T>,
  path: string | undefined = startPaths.get(c),
): Promise<T> {
  if (path === undefined) return fn();
  const own = c.getTransactionStatus() === 'I';
  if (own) await c.query('BEGIN');
  try {
    await c.query(SET_LOCAL, [path]);
    const out = await fn();
    await (own ? c.query('COMMIT') : c.query(SET_LOCAL, ['']));
    return out;
  } catch (e) {
    // An aborted transaction drops the local setting when it is rolled back (by the caller when it is theirs).
    if (own) await c.query('ROLLBACK').catch(() => {});
    else await c.query(SET_LOCAL, ['']).catch(() => {});
    throw e;
  }
}

/** Set the starting path local to the session's current transaction (for a COPY that streams). */
export async function setStartPathLocal(c: pg.Client, path: string | undefined = startPaths.get(c)): Promise<void> {
  if (path !== undefined) await c.query(SET_LOCAL, [path]);
}

/** Empty the path again in the session's current transaction (after setStartPathLocal). */
export async function clearPathLocal(c: pg.Client): Promise<void> {
  await c.query(SET_LOCAL, ['']);
}

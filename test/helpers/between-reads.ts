/**
 * Another session's writes, landed between two reads of the code under test: once the first
 * statement sent to the server on `port` that matches `match` has answered, `sqlText` runs on
 * `url` through psql (synchronously: a real concurrent session, committed before the next read).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { binDirFor } from '../../src/dev/embedded/cluster.js';

export async function writesBetweenReads<T>(
  o: { port: number; match: RegExp; url: string; sql: string },
  fn: () => Promise<T>,
): Promise<{ result: T; wrote: boolean }> {
  const proto = pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown };
  const original = proto.query;
  let wrote = false;
  proto.query = function (this: pg.Client, ...args: unknown[]) {
    const q = args[0];
    const text = typeof q === 'string' ? q : (q as { text?: string } | undefined)?.text;
    const res = original.apply(this, args);
    if (wrote || this.port !== o.port || typeof text !== 'string' || !o.match.test(text)) return res;
    if (!(res instanceof Promise)) return res;
    wrote = true;
    return res.then((r) => {
      execFileSync(join(binDirFor(15), 'psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', o.url, '-c', o.sql], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      return r;
    });
  };
  try {
    return { result: await fn(), wrote };
  } finally {
    proto.query = original;
  }
}

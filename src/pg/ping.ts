/**
 * Test connectivity (DTS "Test Connectivity"): connect, read version/database/user, time it.
 * A failure carries one distinct cause and a fix hint.
 */
import { performance } from 'node:perf_hooks';
import { classifyConnectError, type ConnectCause } from './classify.js';
import { connect, ConnectError } from './connect.js';
import { describeConn, type ConnSpec } from './connstring.js';
import { PgferryError } from '../core/errors.js';

export type PingResult =
  | {
      side: string;
      ok: true;
      endpoint: string;
      serverVersion: string;
      serverVersionNum: number;
      database: string;
      user: string;
      ssl: boolean;
      latencyMs: number;
    }
  | {
      side: string;
      ok: false;
      endpoint: string;
      cause: ConnectCause;
      message: string;
      hint: string;
      sqlstate?: string;
    };

export async function ping(spec: ConnSpec, side: string): Promise<PingResult> {
  const endpoint = describeConn(spec);
  const t0 = performance.now();
  try {
    const c = await connect(spec, { label: side, role: 'ping' });
    try {
      const r = await c.query<{ v: string; n: string; db: string; u: string; ssl: boolean }>(
        `SELECT current_setting('server_version') AS v, current_setting('server_version_num') AS n,
                current_database() AS db, current_user AS u,
                coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false) AS ssl`,
      );
      const latencyMs = Math.round((performance.now() - t0) * 10) / 10;
      const row = r.rows[0];
      return {
        side,
        ok: true,
        endpoint,
        serverVersion: row.v,
        serverVersionNum: Number(row.n),
        database: row.db,
        user: row.u,
        ssl: row.ssl,
        latencyMs,
      };
    } finally {
      await c.end().catch(() => {});
    }
  } catch (e) {
    if (e instanceof ConnectError) {
      const message = e.cause instanceof Error ? e.cause.message : e.message;
      return { side, ok: false, endpoint, cause: e.connCause, message, hint: e.hint ?? '', sqlstate: e.sqlstate };
    }
    if (e instanceof PgferryError)
      return { side, ok: false, endpoint, cause: 'tls_failed', message: e.message, hint: e.hint ?? '' };
    const f = classifyConnectError(e, spec);
    return { side, ok: false, endpoint, cause: f.cause, message: f.message, hint: f.hint, sqlstate: f.sqlstate };
  }
}

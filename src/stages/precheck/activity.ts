/**
 * source.long-transactions: long-running and idle-in-transaction sessions, prepared transactions.
 * source.load: active sessions on the source (advise running off-peak).
 */
import { passed, plural, warning, type CheckDef } from './types.js';

export const sourceLongTransactions: CheckDef = {
  id: 'source.long-transactions',
  title: 'Long transactions on the source',
  level: 'warning',
  needs: ['source'],
  async run(ctx) {
    const { longTransactionSec, idleInTransactionSec } = ctx.thresholds;
    const r = await ctx.source!.query<{ pid: number; who: string; state: string; xact_sec: number; state_sec: number }>(
      `SELECT pid, coalesce(usename, '?') || '@' || coalesce(datname, '?') AS who, coalesce(state, '?') AS state,
              extract(epoch FROM now() - xact_start)::int AS xact_sec, extract(epoch FROM now() - state_change)::int AS state_sec
       FROM pg_stat_activity
       WHERE pid <> pg_backend_pid() AND backend_type = 'client backend' AND xact_start IS NOT NULL
         AND ((state LIKE 'idle in transaction%' AND now() - state_change >= make_interval(secs => $2))
              OR now() - xact_start >= make_interval(secs => $1))
       ORDER BY xact_start`,
      [longTransactionSec, idleInTransactionSec],
    );
    const found = r.rows.map(
      (x) =>
        `pid ${x.pid} ${x.who}: ${x.state}, transaction open ${x.xact_sec} s${x.state.startsWith('idle in') ? `, idle ${x.state_sec} s` : ''}`,
    );
    const prep = await ctx.source!.query<{ gid: string; age: number; database: string }>(
      `SELECT gid, database, extract(epoch FROM now() - prepared)::int AS age FROM pg_prepared_xacts ORDER BY prepared`,
    );
    for (const p of prep.rows)
      found.push(`prepared transaction ${JSON.stringify(p.gid)} in ${p.database}, ${p.age} s old`);
    if (!found.length)
      return passed(
        `no transaction open longer than ${longTransactionSec} s or idle in transaction longer than ${idleInTransactionSec} s`,
      );
    return warning(
      `${plural(found.length, 'long-running or idle transaction')} on the source`,
      found,
      "they hold locks and old row versions; the copy's lock requests may wait behind them. End them (COMMIT/ROLLBACK, pg_terminate_backend(pid)) or set idle_in_transaction_session_timeout",
    );
  },
};

export const sourceLoad: CheckDef = {
  id: 'source.load',
  title: 'Source load',
  level: 'warning',
  needs: ['source'],
  async run(ctx) {
    const max = ctx.thresholds.activeSessions;
    const r = await ctx.source!.query<{ pid: number; who: string; sec: number }>(
      `SELECT pid, coalesce(usename, '?') || '@' || coalesce(datname, '?') AS who, extract(epoch FROM now() - query_start)::int AS sec
       FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND backend_type = 'client backend' AND state = 'active' ORDER BY query_start`,
    );
    if (r.rows.length <= max)
      return passed(`${plural(r.rows.length, 'active session')} on the source (threshold ${max})`);
    return warning(
      `${plural(r.rows.length, 'active session')} on the source (more than ${max}): the copy adds read load`,
      r.rows.map((x) => `pid ${x.pid} ${x.who}: active ${x.sec} s`),
      'run the migration off-peak, or lower --jobs / set copy.maxBytesPerSec',
    );
  },
};

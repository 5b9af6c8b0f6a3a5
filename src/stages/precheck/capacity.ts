/**
 * capacity.connections: free connection slots on both sides for the run: source jobs + 1
 * (snapshot coordinator), target jobs + index jobs + 1 (checkpoints). Counts max_connections
 * minus reserved slots and sessions in use, and the role's and database's connection limits.
 */
import { failed, passed, type CheckDef } from './types.js';
import type pg from 'pg';
import { serverVersionNum } from '../../pg/connect.js';

// reserved_connections and pg_use_reserved_connections exist on 16+.
const SQL = (v: number) => `
SELECT current_setting('max_connections')::int AS max,
       CASE WHEN r.rolsuper THEN 0 ELSE current_setting('superuser_reserved_connections')::int
            ${v >= 160000 ? `+ CASE WHEN pg_has_role(current_user, 'pg_use_reserved_connections', 'MEMBER') THEN 0 ELSE current_setting('reserved_connections')::int END` : ''} END AS reserved,
       (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid())::int AS used,
       r.rolconnlimit AS role_limit,
       (SELECT count(*) FROM pg_stat_activity WHERE usename = current_user AND pid <> pg_backend_pid())::int AS role_used,
       d.datconnlimit AS db_limit,
       (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid())::int AS db_used
FROM pg_roles r, pg_database d WHERE r.rolname = current_user AND d.datname = current_database()`;

async function free(c: pg.Client): Promise<{ free: number; why: string }> {
  const v = await serverVersionNum(c);
  const r = (await c.query(SQL(v))).rows[0];
  const limits = [
    { free: r.max - r.reserved - r.used, why: `max_connections ${r.max}, ${r.reserved} reserved, ${r.used} in use` },
  ];
  if (r.role_limit >= 0)
    limits.push({
      free: r.role_limit - r.role_used,
      why: `role connection limit ${r.role_limit}, ${r.role_used} in use`,
    });
  if (r.db_limit >= 0)
    limits.push({ free: r.db_limit - r.db_used, why: `database connection limit ${r.db_limit}, ${r.db_used} in use` });
  return limits.sort((a, b) => a.free - b.free)[0];
}

export const capacityConnections: CheckDef = {
  id: 'capacity.connections',
  title: 'Connection capacity',
  level: 'error',
  skippable: true,
  needs: ['source', 'target'],
  async run(ctx) {
    const jobs = ctx.task.jobs;
    const indexJobs = ctx.task.indexJobs ?? jobs;
    const needS = jobs + 1;
    const needT = jobs + indexJobs + 2;
    const s = await free(ctx.source!);
    const t = await free(ctx.target!);
    const short: string[] = [];
    if (s.free < needS)
      short.push(`source: needs ${needS} (jobs ${jobs} + coordinator), ${Math.max(0, s.free)} free (${s.why})`);
    if (t.free < needT)
      short.push(
        `target: needs ${needT} (jobs ${jobs} + index jobs ${indexJobs} + ANALYZE + checkpoints), ${Math.max(0, t.free)} free (${t.why})`,
      );
    if (short.length) {
      return failed(
        'not enough free connection slots for the configured jobs',
        short,
        'lower --jobs / indexJobs, close idle sessions, or raise max_connections (restart) or the role/database CONNECTION LIMIT',
      );
    }
    return passed(`source ${s.free} free for ${needS} needed, target ${t.free} free for ${needT} needed`);
  },
};

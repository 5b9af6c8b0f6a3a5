/** connectivity.source / connectivity.target: the ping of each side, with its classified cause. */
import type { PingResult } from '../../pg/ping.js';
import { failed, passed, type CheckDef, type Outcome } from './types.js';

function outcome(p: PingResult): Outcome {
  if (p.ok)
    return passed(
      `${p.endpoint}: PostgreSQL ${p.serverVersion}, database ${p.database}, user ${p.user}, ssl ${p.ssl ? 'on' : 'off'}, ${p.latencyMs} ms`,
    );
  return failed(
    `${p.endpoint}: cannot connect (cause ${p.cause}${p.sqlstate ? `, SQLSTATE ${p.sqlstate}` : ''}): ${p.message}`,
    [p.endpoint],
    p.hint,
  );
}

export const connectivitySource: CheckDef = {
  id: 'connectivity.source',
  title: 'Source connectivity',
  level: 'error',
  needs: [],
  run: async (ctx) => outcome(ctx.sourcePing),
};

export const connectivityTarget: CheckDef = {
  id: 'connectivity.target',
  title: 'Target connectivity',
  level: 'error',
  needs: [],
  run: async (ctx) => outcome(ctx.targetPing),
};

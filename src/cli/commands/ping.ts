import { Command } from 'commander';
import { resolveConnSpec } from '../../pg/connstring.js';
import { ping, type PingResult } from '../../pg/ping.js';
import { PgferryError } from '../../core/errors.js';
import { EXIT } from '../exit.js';
import { addConnectionOptions } from '../options.js';
import { out } from '../output.js';

export function pingCommand(): Command {
  const cmd = new Command('ping')
    .description(
      'test connectivity to the source and (optionally) the target: version, database, user, latency, or the cause of failure',
    )
    .option('--json', 'print one JSON document');
  addConnectionOptions(cmd, { target: 'optional' });
  cmd.action(async (o: { source?: string; target?: string; json?: boolean }) => {
    if (!o.source && !o.target)
      throw new PgferryError('usage', 'nothing to ping', { hint: 'pass --source URL and/or --target URL' });
    const sides: [string, string][] = [];
    if (o.source) sides.push(['source', o.source]);
    if (o.target) sides.push(['target', o.target]);
    const results = await Promise.all(sides.map(([side, text]) => ping(resolveConnSpec(text), side)));
    if (o.json) out(JSON.stringify({ ok: results.every((r) => r.ok), results }, null, 2));
    else for (const r of results) out(formatPing(r));
    process.exitCode = results.every((r) => r.ok) ? EXIT.ok : EXIT.connect;
  });
  return cmd;
}

export function formatPing(r: PingResult): string {
  if (r.ok) {
    return `${r.side}: OK  ${r.endpoint}  PostgreSQL ${r.serverVersion}  database=${r.database} user=${r.user} ssl=${r.ssl ? 'on' : 'off'}  ${r.latencyMs} ms`;
  }
  return `${r.side}: FAILED  ${r.endpoint}  cause=${r.cause}${r.sqlstate ? ` (SQLSTATE ${r.sqlstate})` : ''}\n  ${r.message}\n  fix: ${r.hint}`;
}

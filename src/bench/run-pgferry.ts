/**
 * Bench child: one full pgferry migration of SOURCE into the (empty, existing) TARGET database:
 * pre-data schema (pg_dump | psql), copyData with per-table early statements from post-data,
 * then the late statements. Prints one JSON line with timings and peak RSS.
 * Usage: run-pgferry.ts SOURCE_URL TARGET_URL [format] [jobs] [indexJobs]
 */
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { copyData } from '../copy/engine.js';
import { resolveConnSpec } from '../conn/connstring.js';
import { listCopyTables } from '../plan/tables.js';
import { EventBus } from '../task/events.js';
import { taskFromFlags } from '../task/config.js';
import { Selection } from '../task/selection.js';
import { splitPostData } from './postdata.js';

const [source, target, format = 'auto', jobsArg = '2', indexJobsArg = '2'] = process.argv.slice(2);
const t0 = Date.now();
const pre = execFileSync('pg_dump', ['--schema-only', '--section=pre-data', '--no-owner', '--no-acl', source], { maxBuffer: 1 << 28 });
execFileSync('psql', ['-q', '-X', '-v', 'ON_ERROR_STOP=1', '-d', target], { input: pre, stdio: ['pipe', 'ignore', 'inherit'] });
const post = execFileSync('pg_dump', ['--schema-only', '--section=post-data', '--no-owner', '--no-acl', source], { maxBuffer: 1 << 28 }).toString();
const { early, late } = splitPostData(post);
const tSchema = Date.now();

const task = taskFromFlags({ source, target, jobs: Number(jobsArg) });
const sel = new Selection(task);
const sc = new pg.Client({ connectionString: source });
await sc.connect();
const tables = await listCopyTables(sc, sel);
const seqs = await sc.query<{ schema: string; name: string }>(
  `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'S' AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgferry')`,
);
await sc.end();

const events = new EventBus();
const counts: Record<string, number> = {};
events.on((e) => {
  counts[e.type] = (counts[e.type] ?? 0) + 1;
  if (process.env.PGFERRY_BENCH_VERBOSE && e.type !== 'progress') process.stderr.write(JSON.stringify(e) + '\n');
});
const cpu0 = process.cpuUsage();
const r = await copyData({
  source: resolveConnSpec(source),
  target: resolveConnSpec(target),
  taskId: 'bench',
  tables,
  early,
  sequences: seqs.rows.map((s) => ({ source: s, target: s })),
  jobs: Number(jobsArg),
  indexJobs: Number(indexJobsArg),
  copy: {
    ...task.copy,
    format: format as 'auto' | 'text' | 'binary',
    ...(process.env.PGFERRY_BENCH_SPLIT_MB ? { splitThresholdMB: Number(process.env.PGFERRY_BENCH_SPLIT_MB) } : {}),
    ...(process.env.PGFERRY_BENCH_UNIT_MB ? { unitMB: Number(process.env.PGFERRY_BENCH_UNIT_MB) } : {}),
  },
  events,
});
const tCopy = Date.now();
const cpuCopy = process.cpuUsage(cpu0);
const tc = new pg.Client({ connectionString: target });
await tc.connect();
for (const s of late) await tc.query(s.sql);
await tc.query('DROP SCHEMA pgferry CASCADE');
await tc.end();
const tEnd = Date.now();
process.stdout.write(
  JSON.stringify({
    format: r.format,
    schemaMs: tSchema - t0,
    copyMs: tCopy - tSchema,
    lateMs: tEnd - tCopy,
    totalMs: tEnd - t0,
    maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    copyCpuSec: Math.round((cpuCopy.user + cpuCopy.system) / 1e4) / 100,
    cpuSec: Math.round((process.cpuUsage().user + process.cpuUsage().system) / 1e4) / 100,
    rows: r.tables.reduce((a, t) => a + t.rows, 0),
    units: r.tables.reduce((a, t) => a + t.units, 0),
    early: early.length,
    late: late.length,
    retries: r.retries,
  }) + '\n',
);

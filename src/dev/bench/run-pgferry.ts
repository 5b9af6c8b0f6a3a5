/**
 * Bench child: one full `pgferry migrate` of SOURCE into the (empty, existing) TARGET database —
 * precheck, schema from the catalogs, parallel copy with per-table index builds, foreign keys,
 * sequences — then removal of the checkpoint schema; with PGFERRY_BENCH_VERIFY=hash, a separate
 * timed `verify --mode hash` afterwards; with PGFERRY_BENCH_TASK_VERIFY=count, the task's own count
 * verification is part of the migration. Counts the queries sent and the checkpoint rows written. Prints one JSON line with timings and peak RSS.
 * Usage: run-pgferry.ts SOURCE_URL TARGET_URL [format] [jobs] [indexJobs]
 */
import './navigator.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { EventBus, type Phase } from '../../core/events.js';
import { validateTask } from '../../core/config.js';
import { migrate } from '../../engine/runner.js';
import { verify } from '../../stages/verify/index.js';
import { keepHeapSmall } from '../../core/heap.js';

// as the command line does (PGFERRY_BENCH_DEFAULT_HEAP=1 measures without it)
if (!process.env.PGFERRY_BENCH_DEFAULT_HEAP) keepHeapSmall();

const [source, target, format = 'auto', jobsArg = '2', indexJobsArg = '2'] = process.argv.slice(2);
const stateDir = mkdtempSync(join(tmpdir(), 'pgferry-bench-state-'));
const task = validateTask({
  name: 'bench',
  source,
  target,
  stateDir,
  jobs: Number(jobsArg),
  indexJobs: Number(indexJobsArg),
  // the many-tables benchmark times the default count verification too
  verify: process.env.PGFERRY_BENCH_TASK_VERIFY === 'count' ? 'count' : 'none',
  copy: {
    format,
    ...(process.env.PGFERRY_BENCH_SPLIT_MB ? { splitThresholdMB: Number(process.env.PGFERRY_BENCH_SPLIT_MB) } : {}),
    ...(process.env.PGFERRY_BENCH_UNIT_MB ? { unitMB: Number(process.env.PGFERRY_BENCH_UNIT_MB) } : {}),
  },
});
// round trips: every query pgferry's sessions send (COPY included), counted in this child only
let queries = 0;
const sendQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...a: unknown[]) {
  queries++;
  return (sendQuery as (...x: unknown[]) => unknown).apply(this, a);
} as typeof sendQuery;
const events = new EventBus();
// `read`: from the start to the precheck — the snapshot, the catalog read and the DDL generated from it
const phases: Partial<Record<Phase | 'read', number>> = {};
const started = Date.now();
events.on((e) => {
  if (e.type === 'phase-start' && e.phase === 'precheck') phases.read = Date.now() - started;
  if (e.type === 'phase-end') phases[e.phase] = e.durationMs;
  if (process.env.PGFERRY_BENCH_VERBOSE && e.type !== 'progress') process.stderr.write(JSON.stringify(e) + '\n');
});
const t0 = Date.now();
const r = await migrate(task, { events });
const tc = new pg.Client({ connectionString: target });
await tc.connect();
const checkpointRows = (
  await tc.query<{ n: string }>(
    `SELECT ((SELECT count(*) FROM pgferry.object) + (SELECT count(*) FROM pgferry.unit))::text AS n`,
  )
).rows[0].n;
await tc.query('DROP SCHEMA pgferry CASCADE');
await tc.end();
const totalMs = Date.now() - t0;
const maxRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
let verifyHashMs: number | undefined;
if (process.env.PGFERRY_BENCH_VERIFY === 'hash') {
  const v0 = Date.now();
  const v = await verify({ ...task, verify: 'hash' }, { mode: 'hash' });
  if (!v.ok) throw new Error('verify --mode hash found differences');
  verifyHashMs = Date.now() - v0;
}
rmSync(stateDir, { recursive: true, force: true });
process.stdout.write(
  JSON.stringify({
    format: r.copy?.format,
    phasesMs: phases,
    copyMs: phases.data,
    totalMs,
    maxRssMB,
    rows: r.copy?.tables.reduce((a, t) => a + t.rows, 0),
    units: r.copy?.tables.reduce((a, t) => a + t.units, 0),
    verifyHashMs,
    queries,
    checkpointRows: Number(checkpointRows),
    cpuSec: Math.round((process.cpuUsage().user + process.cpuUsage().system) / 1e4) / 100,
  }) + '\n',
);

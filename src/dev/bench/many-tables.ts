/**
 * `npm run bench -- --many-tables [--tables 200,2000] [--full-curve] [--runs R] [--tools pgferry,pgdump_j2,pgcopydb]`
 *
 * The scale curve: per-object cost. On a throwaway PostgreSQL 15 cluster (fsync on), builds for each N
 * a database of N small tables (50 rows, a primary key and one secondary index each), then times, tools
 * alternating within each run, full migrations into fresh target databases: pgferry migrate (with its
 * default count verification), pg_dump -Fd -j2 | pg_restore -j2, and pgcopydb clone (2 table jobs,
 * 2 index jobs) when installed. Prints ms/table and peak RSS per tool (medians), pgferry/peer ratios,
 * pgferry's phases, its queries, target transactions and checkpoint rows per table, how long each N
 * took, and at the end the curve: ms/table and peak RSS of each tool at each N, and how pgferry's
 * per-table cost grew from the smallest N to the largest. --full-curve adds 20,000 tables (about
 * 25–60 minutes on 2 cores, mostly pgcopydb and building the source).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type Cluster } from '../embedded/cluster.js';
import { arg, bundleRunner, median, q, sh, type ShResult } from './tools.js';

interface PgferryRun {
  phasesMs: Record<string, number>;
  maxRssMB: number;
  queries: number;
  checkpointRows: number;
}

interface Sample {
  ms: number;
  /** peak RSS of the tool's largest process (MB) */
  rssMB?: number;
  pgferry?: PgferryRun;
  xacts?: number;
}

/** N tables t<i>(id primary key, n, v) of 50 rows with an index on n, committed in batches of 500. */
function buildSql(n: number): string {
  return `DO $$
BEGIN
  FOR i IN 1..${n} LOOP
    EXECUTE format('CREATE TABLE %I (id integer PRIMARY KEY, n integer NOT NULL, v text)', 't' || i);
    EXECUTE format('INSERT INTO %I SELECT g, g %% 7, md5(g::text) FROM generate_series(1, 50) g', 't' || i);
    EXECUTE format('CREATE INDEX %I ON %I (n)', 't' || i || '_n', 't' || i);
    IF i % 500 = 0 THEN COMMIT; END IF;
  END LOOP;
END $$`;
}

async function buildSource(cluster: Cluster, n: number): Promise<string> {
  const db = `many_${n}`;
  await q(cluster.url(), `DROP DATABASE IF EXISTS ${db}`);
  await q(cluster.url(), `CREATE DATABASE ${db}`);
  const t0 = Date.now();
  await q(cluster.url(db), buildSql(n));
  await q(cluster.url(db), 'VACUUM ANALYZE');
  await q(cluster.url(db), 'CHECKPOINT');
  process.stderr.write(`built ${n} tables in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  return cluster.url(db);
}

function command(tool: string, runner: string, src: string, dst: string, work: string): [string, NodeJS.ProcessEnv] {
  switch (tool) {
    case 'pgferry':
      return [`node ${runner} '${src}' '${dst}' auto 2 2`, { NODE_OPTIONS: '', PGFERRY_BENCH_TASK_VERIFY: 'count' }];
    case 'pgdump_j2': {
      const dir = join(work, 'dump');
      const restore = `/usr/bin/pg_restore --no-owner -j2 -d '${dst}' '${dir}'`;
      return [`/usr/bin/pg_dump -Fd -Z0 -j2 -f '${dir}' '${src}' && ${restore}; rc=$?; rm -rf '${dir}'; exit $rc`, {}];
    }
    case 'pgcopydb': {
      const dir = join(work, 'pgcopydb');
      const opts = `--table-jobs 2 --index-jobs 2 --dir '${dir}' --no-owner --no-acl`;
      return [`pgcopydb clone --source '${src}' --target '${dst}' ${opts}; rc=$?; rm -rf '${dir}'; exit $rc`, {}];
    }
    default:
      throw new Error(`unknown tool ${tool} (pgferry, pgdump_j2, pgcopydb)`);
  }
}

/** Tables and indexes of schema public, so that a run that lost objects does not count. */
async function shape(url: string): Promise<string> {
  const r = await q(
    url,
    `SELECT (SELECT count(*) FROM pg_tables WHERE schemaname = 'public') || ' tables, ' ||
            (SELECT count(*) FROM pg_indexes WHERE schemaname = 'public') || ' indexes' AS s`,
  );
  return r.rows[0].s as string;
}

async function committed(cluster: Cluster, db: string): Promise<number> {
  const r = await q(cluster.url(), `SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = $1`, [db]);
  return Number(r.rows[0]?.n ?? 0);
}

async function runTool(cluster: Cluster, tool: string, runner: string, src: string, work: string): Promise<Sample> {
  const db = `bench_${tool}`;
  await q(cluster.url(), `DROP DATABASE IF EXISTS ${db}`);
  await q(cluster.url(), `CREATE DATABASE ${db}`);
  await q(cluster.url(), 'CHECKPOINT');
  const [cmd, env] = command(tool, runner, src, cluster.url(db), work);
  const res: ShResult = await sh(cmd, env, join(work, `rss-${tool}`));
  if (res.code !== 0) throw new Error(`${tool} failed (${res.code}):\n${res.out.slice(-3000)}`);
  const [want, got] = await Promise.all([shape(src), shape(cluster.url(db))]);
  if (want !== got) throw new Error(`${tool}: the target has ${got}, the source ${want}`);
  const sample: Sample = { ms: res.ms, rssMB: res.maxRssMB };
  if (tool === 'pgferry') {
    sample.pgferry = JSON.parse(res.out.trim().split('\n').pop()!) as PgferryRun;
    await new Promise((r) => setTimeout(r, 1500)); // statistics of ended sessions reach pg_stat_database
    sample.xacts = await committed(cluster, db);
  }
  await q(cluster.url(), `DROP DATABASE IF EXISTS ${db}`);
  return sample;
}

const fmt = (ms: number, n: number) => `${(ms / n).toFixed(2)} ms/table`;

/** Median ms/table and peak RSS of each tool at one N. */
interface Point {
  n: number;
  load: number;
  tools: Record<string, { msPerTable: number; rssMB?: number }>;
}

const peakRss = (s: Sample[]) => {
  const r = s.map((x) => x.rssMB).filter((x): x is number => x !== undefined);
  return r.length ? Math.max(...r) : undefined;
};

function report(n: number, tools: string[], samples: Record<string, Sample[]>): Point {
  const med = (t: string) => median(samples[t].map((s) => s.ms));
  const load = loadavg()[0];
  const out = [`\n${n} tables, median of ${samples[tools[0]].length} run(s), load ${load.toFixed(2)}:`];
  const point: Point = { n, load, tools: {} };
  for (const t of tools) {
    const rss = peakRss(samples[t]);
    point.tools[t] = { msPerTable: med(t) / n, rssMB: rss };
    out.push(
      `  ${t.padEnd(10)} ${(med(t) / 1000).toFixed(2)} s  ${fmt(med(t), n)}  peak RSS ${rss ?? '?'} MB (largest process)`,
    );
  }
  if (samples.pgferry) {
    for (const t of tools.filter((x) => x !== 'pgferry')) {
      out.push(`  pgferry/${t} = ${(med('pgferry') / med(t)).toFixed(2)}`);
    }
    const runs = samples.pgferry.map((s) => s.pgferry!);
    const phases = Object.keys(runs[0].phasesMs).map((p) => {
      const ms = median(runs.map((r) => r.phasesMs[p] ?? 0));
      return `${p} ${(ms / 1000).toFixed(2)} s (${fmt(ms, n)})`;
    });
    out.push(`  pgferry phases: ${phases.join(', ')}`);
    const per = (x: number) => (x / n).toFixed(1);
    const r = runs[0];
    const xacts = samples.pgferry[0].xacts ?? 0;
    out.push(
      `  pgferry per table: ${per(r.queries)} queries, ${per(xacts)} target transactions, ` +
        `${per(r.checkpointRows)} checkpoint rows; peak RSS ${Math.max(...runs.map((x) => x.maxRssMB))} MB`,
    );
  }
  process.stdout.write(out.join('\n') + '\n');
  return point;
}

/** The scale curve: each tool's ms/table and peak RSS at each N, and pgferry's per-table growth. */
function curve(tools: string[], points: Point[]): void {
  if (points.length === 0) return;
  const out = ['\nscale curve (ms/table, peak RSS of the largest process):'];
  out.push(`  ${'tables'.padStart(7)}  ${tools.map((t) => t.padStart(22)).join('')}  load`);
  for (const p of points) {
    const cells = tools.map((t) => {
      const x = p.tools[t];
      return `${x.msPerTable.toFixed(2)} ms ${String(x.rssMB ?? '?').padStart(4)} MB`.padStart(22);
    });
    out.push(`  ${String(p.n).padStart(7)}  ${cells.join('')}  ${p.load.toFixed(1)}`);
  }
  if (points.length > 1 && tools.length > 1) {
    const [a, b] = [points[0], points.at(-1)!];
    for (const t of tools) {
      const g = b.tools[t].msPerTable / a.tools[t].msPerTable;
      out.push(`  ${t}: per-table cost ×${g.toFixed(2)} from ${a.n} to ${b.n} tables`);
    }
    if (tools[0] === 'pgferry')
      out.push(
        `  pgferry/${tools[1]} per-table cost ×${(
          b.tools.pgferry?.msPerTable /
            b.tools[tools[1]].msPerTable /
            (a.tools.pgferry?.msPerTable / a.tools[tools[1]].msPerTable)
        ).toFixed(2)} from ${a.n} to ${b.n} tables (≈1: pgferry grows like its peer)`,
      );
  }
  process.stdout.write(out.join('\n') + '\n');
}

export async function runManyTables(): Promise<void> {
  const counts = arg('tables', '200,2000').split(',').map(Number);
  if (process.argv.includes('--full-curve') && !counts.includes(20000)) counts.push(20000);
  const runs = Number(arg('runs', '1'));
  const hasPgcopydb = spawnSync('bash', ['-c', 'command -v pgcopydb']).status === 0;
  const tools = arg('tools', `pgferry,pgdump_j2${hasPgcopydb ? ',pgcopydb' : ''}`).split(',');
  const cluster = await startCluster({
    version: 15,
    fast: false,
    name: 'pgferry-bench-many',
    // pg_dump and pgferry's snapshot session lock every table at once
    settings: { max_connections: 100, max_locks_per_transaction: 1024, checkpoint_timeout: "'15min'" },
  });
  const work = mkdtempSync(join(tmpdir(), 'pgferry-bench-many-'));
  try {
    const runner = await bundleRunner();
    const points: Point[] = [];
    for (const n of counts) {
      const tn = Date.now();
      const src = await buildSource(cluster, n);
      const samples: Record<string, Sample[]> = {};
      for (let run = 0; run < runs; run++) {
        for (const tool of run % 2 === 0 ? tools : [...tools].reverse()) {
          const s = await runTool(cluster, tool, runner, src, work);
          (samples[tool] ??= []).push(s);
          process.stderr.write(`${n} tables, ${tool} run ${run + 1}: ${(s.ms / 1000).toFixed(2)} s\n`);
        }
      }
      points.push(report(n, tools, samples));
      await q(cluster.url(), `DROP DATABASE IF EXISTS many_${n}`);
      process.stdout.write(`  ${n} tables took ${((Date.now() - tn) / 60000).toFixed(1)} min (build and all runs)\n`);
    }
    curve(tools, points);
  } finally {
    await cluster.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

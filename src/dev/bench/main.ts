/**
 * `npm run bench [-- --scale N] [--runs R] [--tools pgferry,pgferry_text,pgdump,pgcopydb] [--timeline] [--no-hash]`
 * (`--many-tables`: many-tables.ts; `--incremental`: change capture, incremental.ts; `--workers`:
 * workers.ts; `--cutover`: cutover.ts)
 *
 * Starts a throwaway PostgreSQL 15 cluster (durable settings: fsync on), builds the "mixed"
 * database (../shared/bench/mixed.sql beside the checkout, when present, else the built-in copy), then times
 * full migrations into fresh databases, tools alternating: pgferry (`migrate`: precheck, schema
 * from the catalogs, parallel copy with per-table index builds, foreign keys, sequences),
 * pg_dump -Fc | pg_restore, and pgcopydb clone
 * (--table-jobs 2 --index-jobs 2) when installed. Prints wall times, ratios and pgferry's peak RSS.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startCluster, type Cluster } from '../embedded/cluster.js';
import { runIncremental } from './incremental.js';
import { runManyTables } from './many-tables.js';
import { runCutoverBench } from './cutover.js';
import { runWorkersBench } from './workers.js';
import { startTimeline } from './timeline.js';
import { arg, bundleRunner, median, q, root, type ShResult, sh } from './tools.js';

const BUILTIN_MIXED = `
\\set customers (:scale * 100000)
\\set orders (:scale * 600000)
create table customers(id bigserial primary key, email text not null unique, name text,
  created_at timestamptz default now(), tags text[], profile jsonb);
insert into customers(email, name, tags, profile)
  select 'user'||g||'@example.com', md5(g::text), array['a'||(g%10), 'b'||(g%7)],
         jsonb_build_object('age', g%90, 'city', 'city'||(g%1000), 'score', (g%997)/997.0)
  from generate_series(1, :customers) g;
create table orders(id bigserial primary key, customer_id bigint not null references customers(id),
  amount numeric(12,2), status text check (status in ('new','paid','shipped')), placed_at timestamptz,
  note text, payload bytea);
insert into orders(customer_id, amount, status, placed_at, note, payload)
  select 1 + (g % :customers), (g%10000)/100.0, (array['new','paid','shipped'])[1+g%3],
         timestamptz '2024-01-01' - (g||' minutes')::interval, repeat('x', g%200), decode(md5(g::text), 'hex')
  from generate_series(1, :orders) g;
create index on orders(customer_id);
create index on orders(placed_at);
create index on customers using gin(profile);
`;

async function main() {
  const scale = Number(arg('scale', '1'));
  const runs = Number(arg('runs', '1'));
  // `--no-hash`: skip the separately timed `verify --mode hash` of the first binary run
  const hashRun = !process.argv.includes('--no-hash');
  const hasPgcopydb = spawnSync('bash', ['-c', 'command -v pgcopydb']).status === 0;
  const tools = arg('tools', `pgferry,pgferry_text,pgdump${hasPgcopydb ? ',pgcopydb' : ''}`).split(',');
  const cluster: Cluster = await startCluster({
    version: 15,
    fast: false,
    name: 'pgferry-bench',
    settings: { max_connections: 100, checkpoint_timeout: "'15min'" },
  });
  const work = mkdtempSync(join(tmpdir(), 'pgferry-bench-'));
  try {
    const src = cluster.url('mixed');
    process.stderr.write(`building mixed at scale ${scale} on PostgreSQL 15 (port ${cluster.port})…\n`);
    const tb = Date.now();
    await q(cluster.url(), 'CREATE DATABASE mixed');
    const sharedSql = resolve(root, '..', 'shared', 'bench', 'mixed.sql');
    const mixedFile = existsSync(sharedSql) ? sharedSql : join(work, 'mixed.sql');
    if (!existsSync(sharedSql)) writeFileSync(mixedFile, BUILTIN_MIXED);
    const pgbench = existsSync(cluster.bin('pgbench')) ? cluster.bin('pgbench') : 'pgbench';
    let r = await sh(`${pgbench} -i -s ${10 * scale} -q '${src}'`);
    if (r.code !== 0) throw new Error(`pgbench -i failed: ${r.out}`);
    r = await sh(`psql -X -q -v ON_ERROR_STOP=1 -v scale=${scale} -d '${src}' -f '${mixedFile}'`);
    if (r.code !== 0) throw new Error(`mixed.sql failed: ${r.out}`);
    await q(src, 'VACUUM ANALYZE');
    await q(src, 'CHECKPOINT');
    const size = (await q(src, `SELECT pg_size_pretty(pg_database_size(current_database())) AS s`)).rows[0].s;
    process.stderr.write(
      `built ${size} (${mixedFile === sharedSql ? 'shared mixed.sql' : 'built-in mixed'}) in ${((Date.now() - tb) / 1000).toFixed(1)}s\n`,
    );

    // pgferry runs as plain JavaScript, bundled as the installed command line is (dist/pgferry.mjs), not through tsx:
    // bundle the runner once (not timed) next to node_modules so that packages resolve.
    const runner = await bundleRunner();
    const times: Record<string, number[]> = {};
    const extra: Record<string, unknown[]> = {};
    const cpu: Record<string, number[]> = {};
    for (let run = 0; run < runs; run++) {
      const order = run % 2 === 0 ? tools : [...tools].reverse();
      for (const tool of order) {
        const db = `bench_${tool}`;
        const dst = cluster.url(db);
        await q(cluster.url(), `DROP DATABASE IF EXISTS ${db}`);
        await q(cluster.url(), `CREATE DATABASE ${db}`);
        await q(cluster.url(), 'CHECKPOINT');
        let res: ShResult;
        // GNU time's record of the tool's process tree: its own CPU (the relay's, pg_dump's, pgcopydb's)
        const timeFile = join(work, `time-${tool}`);
        const timeline = process.argv.includes('--timeline') ? startTimeline(cluster.url(), 'mixed', db) : undefined;
        switch (tool) {
          case 'pgferry':
          case 'pgferry_text':
            res = await sh(
              `node ${runner} '${src}' '${dst}' ${tool === 'pgferry' ? 'auto' : 'text'} 2 2`,
              {
                NODE_OPTIONS: '',
                // content-hash verification timed once, on the first binary run
                PGFERRY_BENCH_VERIFY: tool === 'pgferry' && run === 0 && hashRun ? 'hash' : '',
                // the default verification (row counts) is part of pgferry's time
                PGFERRY_BENCH_TASK_VERIFY: 'count',
              },
              timeFile,
            );
            if (res.code === 0) {
              const x = JSON.parse(res.out.trim().split('\n').pop()!) as { verifyHashMs?: number };
              (extra[tool] ??= []).push(x);
              // the migration's wall time, without the separately timed verification
              if (x.verifyHashMs) res.ms -= x.verifyHashMs;
            }
            break;
          case 'pgdump':
            res = await sh(`pg_dump -Fc -Z0 '${src}' | pg_restore --no-owner -d '${dst}'`, {}, timeFile);
            break;
          case 'pgcopydb':
            res = await sh(
              `pgcopydb clone --source '${src}' --target '${dst}' --table-jobs 2 --index-jobs 2 --dir '${join(work, 'pgcopydb')}' --no-owner --no-acl; rc=$?; rm -rf '${join(work, 'pgcopydb')}'; exit $rc`,
              {},
              timeFile,
            );
            break;
          default:
            throw new Error(`unknown tool ${tool}`);
        }
        if (timeline) process.stdout.write(`${tool} run ${run + 1} ${await timeline.stop()}\n`);
        if (res.code !== 0) throw new Error(`${tool} failed (${res.code}):\n${res.out.slice(-3000)}`);
        // sanity: same row counts as the source
        if (tool.startsWith('pgferry')) {
          const cnt = `SELECT (SELECT count(*) FROM orders) + (SELECT count(*) FROM customers) + (SELECT count(*) FROM pgbench_accounts) AS n`;
          const [a, b] = await Promise.all([q(src, cnt), q(dst, cnt)]);
          if (a.rows[0].n !== b.rows[0].n)
            throw new Error(`${tool}: row counts differ: ${a.rows[0].n} vs ${b.rows[0].n}`);
          const idx = `SELECT count(*) AS n FROM pg_indexes WHERE schemaname = 'public'`;
          const [ia, ib] = await Promise.all([q(src, idx), q(dst, idx)]);
          if (ia.rows[0].n !== ib.rows[0].n)
            throw new Error(`${tool}: index counts differ: ${ia.rows[0].n} vs ${ib.rows[0].n}`);
        }
        (times[tool] ??= []).push(res.ms);
        if (res.cpuSec !== undefined) (cpu[tool] ??= []).push(res.cpuSec);
        process.stdout.write(
          `${tool} run ${run + 1}: ${(res.ms / 1000).toFixed(2)} s, tool CPU ${res.cpuSec?.toFixed(2) ?? '?'} s (load average ${loadavg()[0].toFixed(1)})${extra[tool] ? ' ' + JSON.stringify(extra[tool].at(-1)) : ''}\n`,
        );
        await q(cluster.url(), `DROP DATABASE IF EXISTS ${db}`);
      }
    }
    const med = median;
    process.stdout.write(`\nscale ${scale} (${size}), median of ${runs} run(s):\n`);
    for (const t of tools)
      process.stdout.write(
        `  ${t.padEnd(13)} ${(med(times[t]) / 1000).toFixed(2)} s${cpu[t] ? `, tool CPU ${med(cpu[t]).toFixed(2)} s` : ''}\n`,
      );
    const f = med(times.pgferry ?? [NaN]);
    if (times.pgcopydb)
      process.stdout.write(`  pgferry/pgcopydb = ${(f / med(times.pgcopydb)).toFixed(2)} (goal ≤ 0.9)\n`);
    if (times.pgdump)
      process.stdout.write(`  pgferry/pg_dump|pg_restore = ${(f / med(times.pgdump)).toFixed(2)} (target ≤ 0.55)\n`);
    if (times.pgferry_text)
      process.stdout.write(`  pgferry binary/text = ${(f / med(times.pgferry_text)).toFixed(2)}\n`);
    const rss = (extra.pgferry ?? []).map((e) => (e as { maxRssMB: number }).maxRssMB);
    if (rss.length) process.stdout.write(`  pgferry peak RSS ${Math.max(...rss)} MB (limit 200)\n`);
    const vh = (extra.pgferry ?? [])
      .map((e) => e as { verifyHashMs?: number; copyMs?: number })
      .find((e) => e.verifyHashMs !== undefined);
    if (vh?.verifyHashMs && vh.copyMs) {
      process.stdout.write(
        `  pgferry verify --mode hash ${(vh.verifyHashMs / 1000).toFixed(2)} s = ${(vh.verifyHashMs / vh.copyMs).toFixed(2)} × the data phase\n`,
      );
    }
  } finally {
    await cluster.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

const chosen = process.argv.includes('--cutover')
  ? runCutoverBench
  : process.argv.includes('--many-tables')
    ? runManyTables
    : process.argv.includes('--incremental')
      ? runIncremental
      : process.argv.includes('--workers')
        ? runWorkersBench
        : main;
chosen().catch((e) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});

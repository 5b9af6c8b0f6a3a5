/**
 * `npm run bench -- --incremental [--scale S] [--backlog N] [--rate R] [--seconds T] [--runs K] [--tools pgferry,native,pgcopydb]`
 *
 * Change capture, side by side under the same pgbench (TPC-B) write load: pgferry's incremental
 * apply, native logical replication (CREATE SUBSCRIPTION) and `pgcopydb clone --follow` (when
 * installed). A PostgreSQL 15 source (wal_level=logical) and a PostgreSQL 15 target, durable
 * settings; each tool gets a fresh target database, copies the pgbench tables, then streams.
 *
 *  - apply throughput: the target tables are locked while pgbench writes a backlog of N
 *    transactions on the source (the tool receives but cannot apply); the lock is released and the
 *    time until the last change is on the target gives transactions and rows applied per second.
 *    Each pgbench transaction changes 4 rows (3 updates, 1 insert).
 *  - steady-state lag: pgbench at a fixed rate (R tx/s, default: 80 % of native's apply rate in
 *    this run) for T seconds; every 500 ms, the bytes of source WAL the tool's slot has not
 *    confirmed, and the seconds by which a heartbeat row (updated on the source every 100 ms with
 *    the source clock) is behind on the target. Both servers share a clock.
 *
 * PGFERRY_BENCH_STATEMENTS=1: the target logs every statement of the tool's database with its
 * duration (log_min_duration_statement = 0), and the drain prints the server-side time per kind of
 * statement (parse, bind and execute summed): what the target spent on the apply's statements.
 *
 * PGFERRY_BENCH_GC=1: pgferry runs with --trace-gc, and the drain prints its collections' pauses.
 * The drain also prints pgferry's process CPU time (/proc), busy share of a core.
 *
 * The tools take turns, K rounds (default 3): native, pgferry, …, native, pgferry, … Prints each
 * run's numbers, then each tool's medians and pgferry's ratios to the others (of the medians), with
 * the machine's load average.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { startCluster, type Cluster } from '../embedded/cluster.js';
import { arg, median, q, root, sh } from './tools.js';

const ROWS_PER_TX = 4;
const PGBENCH_TABLES = ['pgbench_accounts', 'pgbench_branches', 'pgbench_tellers', 'pgbench_history', 'bench_hb'];

interface Streaming {
  /** Stop the tool and remove what it left on the source. */
  stop(): Promise<void>;
  /** The tool's own process (pgferry): its CPU and GC can be read during the drain. */
  pid?: number;
  /** With PGFERRY_BENCH_GC=1: the tool's --trace-gc lines so far, and when its process started. */
  gcLog?(): { text: string; startedAt: number };
  /** Why the tool is no longer running, when it stopped by itself. */
  gone?(): string | undefined;
}

interface ToolResult {
  tool: string;
  drainSec: number;
  txPerSec: number;
  rowsPerSec: number;
  rate: number;
  achievedRate: number;
  lagSecP50: number;
  lagSecMax: number;
  lagBytesP50: number;
  lagBytesMax: number;
  catchUpSec: number;
}

const log = (s: string) => process.stderr.write(`${s}\n`);
const load = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');

function pgbenchBin(c: Cluster): string {
  const b = c.bin('pgbench');
  return spawnSync('test', ['-x', b]).status === 0 ? b : '/usr/lib/postgresql/15/bin/pgbench';
}

/** The heartbeat: bench_hb's one row, its counter and the source's clock, updated every 100 ms. */
class Heartbeat {
  private c?: pg.Client;
  private timer?: NodeJS.Timeout;
  constructor(private url: string) {}
  async start(): Promise<void> {
    this.c = new pg.Client({ connectionString: this.url });
    await this.c.connect();
    let busy = false;
    this.timer = setInterval(() => {
      if (busy) return;
      busy = true;
      this.c
        ?.query('UPDATE bench_hb SET n = n + 1, ts = clock_timestamp() WHERE id = 1')
        .catch(() => {})
        .finally(() => (busy = false));
    }, 100);
  }
  /** Bump once more and return the counter the target must reach. */
  async mark(): Promise<number> {
    const r = await this.c!.query<{ n: string }>(
      'UPDATE bench_hb SET n = n + 1, ts = clock_timestamp() WHERE id = 1 RETURNING n::text AS n',
    );
    return Number(r.rows[0].n);
  }
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.c?.end().catch(() => {});
  }
}

/** A tool stopped by itself: waiting longer is pointless. */
class Gone extends Error {}

async function waitFor(what: string, fn: () => Promise<boolean>, sec: number, everyMs = 20): Promise<void> {
  const end = Date.now() + sec * 1000;
  for (;;) {
    const ok = await fn().catch((e) => {
      if (e instanceof Gone) throw e;
      return false;
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Server-side time per kind of statement in the target's log written since `from` (bytes). */
function statementTimes(logFile: string, from: number): string {
  const text = readFileSync(logFile).subarray(from).toString('utf8');
  const by = new Map<string, { ms: number; n: number }>();
  const found = [...text.matchAll(/duration: ([\d.]+) ms {2}(parse|bind|execute|statement)[^:]*: (.*)/g)];
  // the statement that waited for the bench's lock: reported apart
  const longest = found.reduce((a, m) => Math.max(a, Number(m[1])), 0);
  for (const m of found) {
    if (Number(m[1]) === longest) continue;
    const sql = m[3]!;
    const kind = /ON CONFLICT/.test(sql)
      ? 'INSERT ON CONFLICT'
      : (/^\s*(\w+(?:\s+\w+)?)/.exec(sql)?.[1] ?? '?').toUpperCase();
    const k = by.get(kind) ?? { ms: 0, n: 0 };
    k.ms += Number(m[1]);
    if (m[2] === 'execute' || m[2] === 'statement') k.n++;
    by.set(kind, k);
  }
  const total = [...by.values()].reduce((a, b) => a + b.ms, 0);
  return [...by]
    .sort((a, b) => b[1].ms - a[1].ms)
    .slice(0, 8)
    .map(([k, v]) => `${k} ${v.ms.toFixed(0)} ms/${v.n}`)
    .concat(`total ${total.toFixed(0)} ms (and ${longest.toFixed(0)} ms in the statement that waited for the lock)`)
    .join(', ');
}

async function hbOnTarget(c: pg.Client): Promise<{ n: number; lagSec: number }> {
  const r = await c.query<{ n: string; lag: number }>(
    'SELECT n::text AS n, extract(epoch FROM clock_timestamp() - ts)::float8 AS lag FROM bench_hb WHERE id = 1',
  );
  return { n: Number(r.rows[0].n), lagSec: r.rows[0].lag };
}

function child(cmd: string, args: string[], logFile: string): ChildProcess {
  // its own process group: a tool's worker processes are stopped with it
  return spawn('bash', ['-c', `exec "$0" "$@" >>'${logFile}' 2>&1`, cmd, ...args], { stdio: 'ignore', detached: true });
}

function killGroup(p: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-p.pid!, signal);
  } catch {
    /* already gone */
  }
}

async function dropSlots(src: string): Promise<void> {
  await q(
    src,
    `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE database = current_database() AND active_pid IS NOT NULL`,
  );
  await sleep(300);
  await q(
    src,
    `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = current_database()`,
  ).catch(() => {});
  for (const r of (await q(src, 'SELECT pubname FROM pg_publication')).rows)
    await q(src, `DROP PUBLICATION "${r.pubname}"`);
  await q(src, 'DROP SCHEMA IF EXISTS pgcopydb CASCADE');
}

async function startNative(src: Cluster, dst: Cluster, db: string): Promise<Streaming> {
  const s = await sh(`pg_dump -s '${src.url('bench_src')}' | psql -X -q -v ON_ERROR_STOP=1 -d '${dst.url(db)}'`);
  if (s.code !== 0) throw new Error(`schema for native: ${s.out}`);
  await q(src.url('bench_src'), `CREATE PUBLICATION bench_native FOR TABLE ${PGBENCH_TABLES.join(', ')}`);
  const conn = src.url('bench_src').replace('?sslmode=disable', '');
  await q(dst.url(db), `CREATE SUBSCRIPTION bench_native CONNECTION '${conn}' PUBLICATION bench_native`);
  await waitFor(
    'native initial sync',
    async () =>
      (await q(dst.url(db), `SELECT count(*)::int AS n FROM pg_subscription_rel WHERE srsubstate <> 'r'`)).rows[0].n ===
      0,
    600,
    200,
  );
  return {
    stop: async () => {
      await q(dst.url(db), 'ALTER SUBSCRIPTION bench_native DISABLE');
      await q(dst.url(db), 'ALTER SUBSCRIPTION bench_native SET (slot_name = NONE)');
      await q(dst.url(db), 'DROP SUBSCRIPTION bench_native');
      await dropSlots(src.url('bench_src'));
    },
  };
}

/** User + system CPU seconds of a process so far (Linux /proc), or undefined. */
function cpuSec(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100 Hz)
  } catch {
    return undefined;
  }
}

/**
 * GC pauses in a --trace-gc log between `from` and `to` (ms since the process started):
 * "[pid:0x…]     1234 ms: Scavenge 10.2 (12.3) -> 9.8 (13.3) MB, 1.23 / 0.00 ms  …".
 */
function gcSummary(text: string, from: number, to: number): string {
  const by = new Map<string, { n: number; ms: number }>();
  for (const m of text.matchAll(/\s(\d+) ms: ([A-Za-z-]+)[^,\n]*, ([\d.]+) \/ [\d.]+ ms/g)) {
    const at = Number(m[1]);
    if (at < from || at > to) continue;
    const k = by.get(m[2]!) ?? { n: 0, ms: 0 };
    k.n++;
    k.ms += Number(m[3]);
    by.set(m[2]!, k);
  }
  const total = [...by.values()].reduce((a, b) => a + b.ms, 0);
  return `${[...by].map(([k, v]) => `${v.n} ${k} ${v.ms.toFixed(0)} ms`).join(', ') || 'none'}; total ${total.toFixed(0)} ms`;
}

async function startPgferry(src: Cluster, dst: Cluster, db: string, work: string): Promise<Streaming> {
  const stateDir = join(work, 'pgferry-state');
  const gc = process.env.PGFERRY_BENCH_GC === '1';
  const logFile = join(work, 'pgferry.log');
  const startedAt = Date.now();
  const p = child(
    process.execPath,
    [
      // PGFERRY_BENCH_PROF=<dir>: a CPU profile of pgferry's run (written when it stops on SIGINT)
      ...(process.env.PGFERRY_BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.PGFERRY_BENCH_PROF] : []),
      // PGFERRY_BENCH_GC=1: every collection in pgferry's log, summed over the drain
      ...(gc ? ['--trace-gc'] : []),
      join(root, 'bin', 'pgferry.js'),
      'migrate',
      '--incremental',
      '--name',
      'bench_cdc',
      '--state-dir',
      stateDir,
      '-s',
      src.url('bench_src'),
      '-t',
      dst.url(db),
      '--no-owner',
      '--no-acl',
      '--verify',
      'none',
      '--json',
    ],
    logFile,
  );
  let exited: number | null | undefined;
  p.on('exit', (code) => (exited = code));
  await waitFor(
    'pgferry streaming',
    async () => {
      if (exited !== undefined) throw new Gone(`pgferry exited (${exited}), see ${work}/pgferry.log`);
      const r = await q(dst.url(db), `SELECT count(*)::int AS n FROM pgferry.cdc WHERE state = 'stream'`);
      return r.rows[0].n === 1;
    },
    600,
    200,
  );
  return {
    pid: p.pid,
    gcLog: gc ? () => ({ text: readFileSync(logFile, 'utf8'), startedAt }) : undefined,
    stop: async () => {
      if (process.env.PGFERRY_BENCH_PROF) {
        killGroup(p, 'SIGINT');
        await sleep(5000);
      }
      killGroup(p, 'SIGKILL');
      await dropSlots(src.url('bench_src'));
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

async function startPgcopydb(src: Cluster, dst: Cluster, db: string, work: string): Promise<Streaming> {
  const dir = join(work, 'pgcopydb');
  const p = child(
    'pgcopydb',
    [
      'clone',
      '--follow',
      '--source',
      src.url('bench_src'),
      '--target',
      dst.url(db),
      '--dir',
      dir,
      '--table-jobs',
      '2',
      '--index-jobs',
      '2',
      '--no-owner',
      '--no-acl',
    ],
    join(work, 'pgcopydb.log'),
  );
  let exited: number | null | undefined;
  p.on('exit', (code) => (exited = code));
  return {
    stop: async () => {
      killGroup(p, 'SIGTERM');
      await sleep(1000);
      killGroup(p, 'SIGKILL');
      await dropSlots(src.url('bench_src'));
      rmSync(dir, { recursive: true, force: true });
    },
    gone: () =>
      exited === undefined
        ? undefined
        : `pgcopydb exited (${exited}): ${readFileSync(join(work, 'pgcopydb.log'), 'utf8')
            .split('\n')
            .filter((l) => /ERROR/.test(l))
            .slice(0, 2)
            .join(' | ')}`,
  };
}

async function measure(
  tool: string,
  src: Cluster,
  dst: Cluster,
  work: string,
  o: { backlog: number; rate: number; seconds: number },
): Promise<ToolResult> {
  const db = `bench_${tool}`;
  await q(dst.url(), `DROP DATABASE IF EXISTS ${db}`);
  await q(dst.url(), `CREATE DATABASE ${db}`);
  const statements = process.env.PGFERRY_BENCH_STATEMENTS === '1';
  if (statements) await q(dst.url(), `ALTER DATABASE ${db} SET log_min_duration_statement = 0`);
  const srcUrl = src.url('bench_src');
  const hb = new Heartbeat(srcUrl);
  await hb.start();
  log(`${tool}: copying and starting to stream (load ${load()})`);
  const streaming =
    tool === 'native'
      ? await startNative(src, dst, db)
      : tool === 'pgferry'
        ? await startPgferry(src, dst, db, work)
        : await startPgcopydb(src, dst, db, work);
  const tc = new pg.Client({ connectionString: dst.url(db) });
  try {
    await tc.connect();
    // streaming: a heartbeat written now reaches the target
    const first = await hb.mark();
    await waitFor(
      `${tool} streaming`,
      async () => {
        const gone = streaming.gone?.();
        if (gone) throw new Gone(gone);
        return (await hbOnTarget(tc)).n >= first;
      },
      Number(arg('ready-sec', '300')),
      200,
    );
    const pgbench = pgbenchBin(src);

    // 1. apply throughput from a backlog: the target tables are locked while pgbench writes
    const locker = new pg.Client({ connectionString: dst.url(db) });
    await locker.connect();
    await locker.query(`BEGIN; LOCK TABLE ${PGBENCH_TABLES.join(', ')} IN ACCESS EXCLUSIVE MODE`);
    // 8 clients: more commits share each WAL flush of the source while the backlog is written
    const clients = 8;
    const b = await sh(`${pgbench} -n -c ${clients} -j 2 -t ${Math.ceil(o.backlog / clients)} '${srcUrl}'`);
    if (b.code !== 0) throw new Error(`pgbench: ${b.out}`);
    const target = await hb.mark();
    const logFrom = statements ? statSync(dst.logFile).size : 0;
    // the server processes doing the tool's work: the source's walsenders, the target's sessions of
    // the tool's database (a native subscription's apply worker, pgferry's apply session)
    const tcPid = (await tc.query<{ p: number }>('SELECT pg_backend_pid() AS p')).rows[0]!.p;
    const lockerPid = (await locker.query<{ p: number }>('SELECT pg_backend_pid() AS p')).rows[0]!.p;
    const walsenders = (await q(srcUrl, `SELECT pid FROM pg_stat_activity WHERE backend_type = 'walsender'`)).rows.map(
      (r) => r.pid as number,
    );
    const targetPids = (
      await q(
        dst.url(db),
        'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
      )
    ).rows
      .map((r) => r.pid as number)
      .filter((p) => p !== tcPid && p !== lockerPid);
    const sumCpu = (pids: number[]) => pids.reduce((a, p) => a + (cpuSec(p) ?? 0), 0);
    const server0 = { walsender: sumCpu(walsenders), target: sumCpu(targetPids) };
    const cpu0 = cpuSec(streaming.pid);
    const t0 = Date.now();
    await locker.query('COMMIT');
    await locker.end();
    await waitFor(`${tool} draining the backlog`, async () => (await hbOnTarget(tc)).n >= target, 900);
    const drainSec = (Date.now() - t0) / 1000;
    const cpu1 = cpuSec(streaming.pid);
    const txns = Math.ceil(o.backlog / clients) * clients;
    // CPU per source transaction of each process in the pipeline: what the machine's load does not change
    const perTx = (sec: number) => `${((sec * 1e6) / txns).toFixed(0)} µs/tx`;
    const walsenderCpu = sumCpu(walsenders) - server0.walsender;
    const targetCpu = sumCpu(targetPids) - server0.target;
    log(
      `${tool}: CPU during the drain: source walsender ${walsenderCpu.toFixed(2)} s (${perTx(walsenderCpu)}), target session(s) ${targetCpu.toFixed(2)} s (${perTx(targetCpu)})` +
        (cpu0 !== undefined && cpu1 !== undefined
          ? `, ${tool} process ${(cpu1 - cpu0).toFixed(2)} s (${perTx(cpu1 - cpu0)}, ${((100 * (cpu1 - cpu0)) / drainSec).toFixed(0)} % of a core)`
          : ''),
    );
    const gcLog = streaming.gcLog?.();
    if (gcLog)
      log(
        `${tool}: GC during the drain: ${gcSummary(gcLog.text, t0 - gcLog.startedAt, t0 - gcLog.startedAt + drainSec * 1000)}`,
      );
    if (statements) log(`${tool}: target statements while draining: ${statementTimes(dst.logFile, logFrom)}`);
    const txPerSec = txns / drainSec;
    log(
      `${tool}: backlog of ${txns} tx applied in ${drainSec.toFixed(2)} s = ${txPerSec.toFixed(0)} tx/s (load ${load()})`,
    );

    // 2. steady-state lag at a fixed rate
    const rate = o.rate > 0 ? o.rate : Math.max(50, Math.round(txPerSec * 0.8));
    const lagSec: number[] = [];
    const lagBytes: number[] = [];
    const t1 = Date.now();
    const bench = sh(`${pgbench} -n -c 2 -j 2 -R ${rate} -T ${o.seconds} '${srcUrl}'`);
    let done = false;
    void bench.then(() => (done = true));
    while (!done) {
      await sleep(500);
      if (Date.now() - t1 < 2000) continue; // settle
      lagSec.push((await hbOnTarget(tc)).lagSec);
      const r = await q(
        srcUrl,
        `SELECT coalesce(max(pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)), 0)::float8 AS b
           FROM pg_replication_slots WHERE database = current_database()`,
      );
      lagBytes.push(Math.max(0, r.rows[0].b));
    }
    const br = await bench;
    const m = /tps = ([\d.]+)/.exec(br.out);
    const end = await hb.mark();
    const t2 = Date.now();
    await waitFor(`${tool} catching up`, async () => (await hbOnTarget(tc)).n >= end, 900);
    const catchUpSec = (Date.now() - t2) / 1000;
    const res: ToolResult = {
      tool,
      drainSec,
      txPerSec,
      rowsPerSec: txPerSec * ROWS_PER_TX,
      rate,
      achievedRate: m ? Number(m[1]) : NaN,
      lagSecP50: median(lagSec),
      lagSecMax: Math.max(...lagSec),
      lagBytesP50: median(lagBytes),
      lagBytesMax: Math.max(...lagBytes),
      catchUpSec,
    };
    log(
      `${tool}: at ${rate} tx/s (pgbench did ${res.achievedRate.toFixed(0)}): lag p50 ${res.lagSecP50.toFixed(2)} s / ${(res.lagBytesP50 / 1024).toFixed(0)} kB, max ${res.lagSecMax.toFixed(2)} s / ${(res.lagBytesMax / 1024).toFixed(0)} kB (load ${load()})`,
    );
    return res;
  } finally {
    await tc.end().catch(() => {});
    await hb.stop();
    await streaming.stop();
    await q(dst.url(), `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(() => {});
  }
}

export async function runIncremental(): Promise<void> {
  const scale = Number(arg('scale', '1'));
  const backlog = Number(arg('backlog', '100000'));
  const rateArg = Number(arg('rate', '0'));
  const seconds = Number(arg('seconds', '20'));
  const hasPgcopydb = spawnSync('bash', ['-c', 'command -v pgcopydb']).status === 0;
  const tools = arg('tools', `native,pgferry${hasPgcopydb ? ',pgcopydb' : ''}`).split(',');
  const runs = Math.max(1, Number(arg('runs', '3')));
  const settings = { max_connections: 100, max_replication_slots: 10, max_wal_senders: 10, max_worker_processes: 16 };
  const [src, dst] = await Promise.all([
    startCluster({
      version: 15,
      fast: false,
      name: 'pgferry-bench-src',
      // no replication timeouts: while the target tables are locked for the backlog, a native
      // subscription's apply worker waits on the lock without answering the walsender, which
      // (60 s by default) then ended its session, and the drain timed the worker's restart too
      settings: { ...settings, wal_level: 'logical', wal_sender_timeout: 0 },
    }),
    startCluster({
      version: 15,
      fast: false,
      name: 'pgferry-bench-dst',
      settings: { ...settings, wal_receiver_timeout: 0 },
    }),
  ]);
  const work = mkdtempSync(join(tmpdir(), 'pgferry-bench-cdc-'));
  try {
    await q(src.url(), 'CREATE DATABASE bench_src');
    const srcUrl = src.url('bench_src');
    const r = await sh(`${pgbenchBin(src)} -i -s ${scale} -q '${srcUrl}'`);
    if (r.code !== 0) throw new Error(`pgbench -i: ${r.out}`);
    await q(
      srcUrl,
      `ALTER TABLE pgbench_history REPLICA IDENTITY FULL;
       CREATE TABLE bench_hb (id int PRIMARY KEY, n bigint NOT NULL, ts timestamptz NOT NULL);
       INSERT INTO bench_hb VALUES (1, 0, clock_timestamp());`,
    );
    log(
      `pgbench scale ${scale} on PostgreSQL 15 → 15; backlog ${backlog} tx; lag for ${seconds} s; tools ${tools.join(', ')}; ${runs} round(s)`,
    );
    const results: ToolResult[] = [];
    let rate = rateArg;
    for (const tool of Array.from({ length: runs }, () => tools).flat()) {
      try {
        const res = await measure(tool, src, dst, work, { backlog, rate, seconds });
        results.push(res);
        // every tool's lag is measured at the same rate: the first tool's (native's) 80 %
        if (rate <= 0) rate = res.rate;
      } catch (e) {
        log(`${tool} failed: ${e instanceof Error ? e.message : String(e)}`);
      }
      await q(srcUrl, 'TRUNCATE pgbench_history'); // the same starting point for the next tool
    }
    process.stdout.write(`\nincremental apply, pgbench scale ${scale}, load average ${load()}:\n`);
    process.stdout.write(
      '  tool       backlog tx/s   rows/s  | lag at rate: p50 s  max s   p50 kB  max kB  catch-up s\n',
    );
    for (const x of results) {
      process.stdout.write(
        `  ${x.tool.padEnd(10)} ${x.txPerSec.toFixed(0).padStart(12)} ${x.rowsPerSec.toFixed(0).padStart(8)}  | ${String(x.rate).padStart(4)} tx/s ${x.lagSecP50.toFixed(2).padStart(6)} ${x.lagSecMax.toFixed(2).padStart(6)} ${(x.lagBytesP50 / 1024).toFixed(0).padStart(8)} ${(x.lagBytesMax / 1024).toFixed(0).padStart(7)} ${x.catchUpSec.toFixed(2).padStart(10)}\n`,
      );
    }
    // medians of each tool's runs
    const med = (tool: string): ToolResult | undefined => {
      const rs = results.filter((x) => x.tool === tool);
      if (!rs.length) return undefined;
      return {
        ...rs[0]!,
        txPerSec: median(rs.map((x) => x.txPerSec)),
        rowsPerSec: median(rs.map((x) => x.rowsPerSec)),
        lagSecP50: median(rs.map((x) => x.lagSecP50)),
      };
    };
    const f = med('pgferry');
    if (runs > 1) {
      process.stdout.write(`  medians of ${runs} runs:\n`);
      for (const t of tools) {
        const m = med(t);
        if (m)
          process.stdout.write(
            `  ${t.padEnd(10)} ${m.txPerSec.toFixed(0).padStart(12)} ${m.rowsPerSec.toFixed(0).padStart(8)}  | lag p50 ${m.lagSecP50.toFixed(2)} s\n`,
          );
      }
    }
    for (const t of tools.filter((x) => x !== 'pgferry')) {
      const other = med(t);
      if (!f || !other) continue;
      process.stdout.write(
        `  pgferry/${t}: apply throughput ${(f.txPerSec / other.txPerSec).toFixed(2)} (goal ≥ 1 vs native), lag p50 ${(f.lagSecP50 / other.lagSecP50).toFixed(2)}\n`,
      );
    }
    if (f) process.stdout.write(`  pgferry lag p50 ${f.lagSecP50.toFixed(2)} s at ${f.rate} tx/s (goal < 1 s)\n`);
  } finally {
    await src.stop();
    await dst.stop();
    // PGFERRY_BENCH_KEEP=1: keep the tools' logs (pgferry's --json events) to look into
    if (process.env.PGFERRY_BENCH_KEEP) log(`logs kept in ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

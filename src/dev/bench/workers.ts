/**
 * `npm run bench -- --workers [--scale N] [--counts 1,2,4]`
 *
 * The same task copied by 1, 2 and 4 `pgferry worker` processes (`migrate --distributed
 * --jobs 0`: the coordinator copies nothing itself), and — the peer measured in the same run —
 * by one ordinary `pgferry migrate` with as many local jobs. Source, target and control
 * database are one PostgreSQL 15 cluster on this host. Prints, per run: the data phase's rows/s,
 * each worker's relay CPU (process.cpuUsage in the worker, read from the control database) per
 * million rows and as a share of one core, and the CPU the PostgreSQL backends used meanwhile
 * (sampled from /proc), which shows what limits the run on a small machine.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startCluster, type Cluster } from '../embedded/cluster.js';
import type { TimedEvent, WorkerView } from '../../core/events.js';
import { arg, q, root, sh } from './tools.js';

const bin = join(root, 'bin', 'pgferry.js');
const HZ = 100;

/** CPU seconds of the cluster's backends: the highest utime+stime seen per pid (sampled, as backends come and go). */
class BackendCpu {
  private seen = new Map<number, number>();
  private timer?: NodeJS.Timeout;
  constructor(private postmaster: number) {}
  private sample(): void {
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const st = readFileSync(`/proc/${d}/stat`, 'utf8');
        const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
        if (Number(f[1]) !== this.postmaster) continue;
        const ticks = Number(f[11]) + Number(f[12]);
        this.seen.set(Number(d), Math.max(this.seen.get(Number(d)) ?? 0, ticks));
      } catch {
        /* gone */
      }
    }
  }
  start(): void {
    this.sample();
    const base = new Map(this.seen);
    this.seen = new Map([...base].map(([k]) => [k, 0]));
    this.baseline = base;
    this.timer = setInterval(() => this.sample(), 100);
  }
  private baseline = new Map<number, number>();
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    let ticks = 0;
    for (const [pid, t] of this.seen) ticks += Math.max(0, t - (this.baseline.get(pid) ?? 0));
    return ticks / HZ;
  }
}

/** Machine-wide CPU ticks from /proc/stat: busy (user, nice, system, irq, softirq), iowait, steal. */
function machineTicks(): { busy: number; iowait: number; steal: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { busy: f[0] + f[1] + f[2] + f[5] + f[6], iowait: f[4], steal: f[7] ?? 0 };
}

function run(args: string[], onLine?: (line: string) => void): Promise<{ code: number; out: string }> {
  return new Promise((res) => {
    const p = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    let out = '';
    createInterface({ input: p.stdout }).on('line', (l) => {
      out += `${l}\n`;
      onLine?.(l);
    });
    p.stderr.on('data', (d) => (out += d));
    p.on('close', (code) => res({ code: code ?? 1, out }));
  });
}

interface Result {
  label: string;
  rows: number;
  dataSec: number;
  workers: WorkerView[];
  backendCpuSec: number;
  wallSec: number;
  /** Cores busy, in iowait and stolen on the whole machine during the run (other work included). */
  machine: { busy: number; iowait: number; steal: number };
}

async function migrateOnce(cluster: Cluster, label: string, extra: string[], state: string): Promise<Result> {
  const db = `bench_${label}`;
  await q(cluster.url(), `DROP DATABASE IF EXISTS ${db}`);
  await q(cluster.url(), `CREATE DATABASE ${db}`);
  await q(cluster.url(), 'CHECKPOINT');
  const events: TimedEvent[] = [];
  const pm = Number(readFileSync(join(cluster.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const cpu = new BackendCpu(pm);
  cpu.start();
  const m0 = machineTicks();
  const t0 = Date.now();
  const r = await run(
    [
      ...[
        'migrate',
        '--json',
        '--name',
        label,
        '--state-dir',
        state,
        '-s',
        cluster.url('mixed'),
        '-t',
        cluster.url(db),
      ],
      ...['--verify', 'none', ...extra],
    ],
    (l) => {
      try {
        events.push(JSON.parse(l) as TimedEvent);
      } catch {
        /* not an event */
      }
    },
  );
  const wallSec = (Date.now() - t0) / 1000;
  const backendCpuSec = cpu.stop();
  const m1 = machineTicks();
  const cores = (k: 'busy' | 'iowait' | 'steal') => (m1[k] - m0[k]) / HZ / wallSec;
  const machine = { busy: cores('busy'), iowait: cores('iowait'), steal: cores('steal') };
  if (r.code !== 0) throw new Error(`${label} failed (${r.code}):\n${r.out.slice(-3000)}`);
  const data = events.find((e) => e.type === 'phase-end' && e.phase === 'data') as { durationMs: number } | undefined;
  const rows = events.filter((e) => e.type === 'unit-done').reduce((a, e) => a + (e as { rows: number }).rows, 0);
  const w = events.filter((e) => e.type === 'workers').at(-1) as { workers: WorkerView[] } | undefined;
  await q(cluster.url(), `DROP DATABASE IF EXISTS ${db}`);
  return {
    label,
    rows,
    dataSec: (data?.durationMs ?? 0) / 1000,
    workers: w?.workers ?? [],
    backendCpuSec,
    wallSec,
    machine,
  };
}

export async function runWorkersBench(): Promise<void> {
  if (!existsSync(join(root, 'dist', 'cli', 'main.js')))
    throw new Error('run `npm run build` first (workers run dist/)');
  const scale = Number(arg('scale', '1'));
  const counts = arg('counts', '1,2,4').split(',').map(Number);
  const cluster = await startCluster({
    version: 15,
    fast: false,
    name: 'pgferry-bench-workers',
    settings: { max_connections: 100, checkpoint_timeout: "'15min'" },
  });
  const work = mkdtempSync(join(tmpdir(), 'pgferry-bench-workers-'));
  const children: ReturnType<typeof spawn>[] = [];
  try {
    await q(cluster.url(), 'CREATE DATABASE mixed');
    await q(cluster.url(), 'CREATE DATABASE ctl');
    const pgbench = existsSync(cluster.bin('pgbench')) ? cluster.bin('pgbench') : 'pgbench';
    const r = await sh(`${pgbench} -i -s ${10 * scale} -q '${cluster.url('mixed')}'`);
    if (r.code !== 0) throw new Error(`pgbench -i failed: ${r.out}`);
    await q(cluster.url('mixed'), 'VACUUM ANALYZE');
    const size = (await q(cluster.url('mixed'), `SELECT pg_size_pretty(pg_database_size('mixed')) AS s`)).rows[0].s;
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    process.stdout.write(`source ${size} (pgbench scale ${10 * scale}); ${cpus().length} cores; load ${load}\n`);
    const split = ['--split-threshold-mb', '16', '--unit-mb', '16'];
    const results: Result[] = [];
    for (const n of counts) {
      // the peer: one process copying with n local jobs
      results.push(await migrateOnce(cluster, `local_j${n}`, ['--jobs', String(n), ...split], join(work, 'state')));
      const ws = [];
      for (let k = 0; k < n; k++) {
        const p = spawn(process.execPath, [bin, 'worker', '--json', '--jobs', '1', '--control', cluster.url('ctl')], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        children.push(p);
        ws.push(
          new Promise<void>((res) =>
            createInterface({ input: p.stdout! }).on('line', (l) => /copying units/.test(l) && res()),
          ),
        );
      }
      await Promise.all(ws);
      results.push(
        await migrateOnce(
          cluster,
          `workers_${n}`,
          ['--distributed', '--control', cluster.url('ctl'), '--jobs', '0', ...split],
          join(work, 'state'),
        ),
      );
      for (const p of children.splice(0)) {
        p.kill('SIGTERM');
        await new Promise((res) => p.once('close', res));
      }
    }
    process.stdout.write(
      '\nrun            rows/s    data s  backends CPU s (cores)  machine cores busy/iowait/steal  per worker: relay CPU s, µs/row, % of a core\n',
    );
    const base = results.find((x) => x.label === 'workers_1');
    for (const x of results) {
      const rate = x.rows / x.dataSec;
      const wk = x.workers
        .map(
          (w) =>
            `${w.cpuSec.toFixed(1)} s ${((w.cpuSec * 1e6) / Math.max(1, w.rows)).toFixed(1)} µs ${Math.round((100 * w.cpuSec) / x.dataSec)}%`,
        )
        .join('; ');
      process.stdout.write(
        `${x.label.padEnd(13)} ${Math.round(rate).toString().padStart(8)}  ${x.dataSec.toFixed(1).padStart(7)}  ${x.backendCpuSec.toFixed(1).padStart(8)} (${(x.backendCpuSec / x.wallSec).toFixed(2)})       ${x.machine.busy.toFixed(2)}/${x.machine.iowait.toFixed(2)}/${x.machine.steal.toFixed(2)}                ${wk}\n`,
      );
    }
    if (base) {
      process.stdout.write('\nratios (rows/s):\n');
      for (const x of results) {
        if (!x.label.startsWith('workers_')) continue;
        const n = x.label.split('_')[1];
        const peer = results.find((y) => y.label === `local_j${n}`)!;
        process.stdout.write(
          `  ${n} workers / 1 worker = ${(x.rows / x.dataSec / (base.rows / base.dataSec)).toFixed(2)}; ${n} workers / local --jobs ${n} = ${(x.rows / x.dataSec / (peer.rows / peer.dataSec)).toFixed(2)}\n`,
        );
      }
    }
  } finally {
    for (const p of children) p.kill('SIGKILL');
    await cluster.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

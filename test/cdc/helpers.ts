/** A PostgreSQL cluster with wal_level=logical, and the steps every change-capture test takes. */
import { after, before } from 'node:test';
import { spawn } from 'node:child_process';
import type pg from 'pg';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { type TaskConfig, validateTask } from '../../src/core/config.js';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import type { TimedEvent } from '../../src/core/events.js';
import { withClient } from '../helpers/compare.js';
import { requestStop } from '../../src/stages/cdc/lsn-checkpoint.js';
import { parseLsn } from '../../src/stages/cdc/lsn.js';
import { useStateSchema } from '../../src/state/checkpoint.js';

export function logicalCluster(version = 15): Promise<Cluster> {
  return startCluster({
    version,
    // scram everywhere: PostgreSQL 12 still stores md5 by default
    settings: {
      wal_level: 'logical',
      max_replication_slots: 10,
      max_wal_senders: 10,
      password_encryption: "'scram-sha-256'",
    },
  });
}

/**
 * The servers and state a test file shares: logical clusters of `versions` started (together) before
 * its tests and stopped after them, a state dir removed after them, and (unless `roles` is false) on
 * the first cluster the roles `roles.src` (LOGIN REPLICATION) and `roles.tgt` (LOGIN), neither a
 * superuser, with the statements `roles.more`.
 */
export interface CdcFixture {
  clusters: Cluster[];
  /** The first cluster. */
  readonly pg: Cluster;
  stateDir: string;
  /**
   * Databases `<name>_src`, owned by the replicating role and filled with `schema` by it, and
   * `<name>_tgt`, owned by the target role; their URLs for those roles.
   */
  databases(name: string, schema?: string): Promise<{ source: string; target: string }>;
  /** An incremental task of this fixture's state dir, without owners and privileges. */
  task(name: string, source: string, target: string, extra?: Record<string, unknown>): TaskConfig;
}

export function cdcFixture(o: {
  prefix: string;
  versions?: number[];
  roles?: { src: string; tgt: string; more?: string } | false;
}): CdcFixture {
  const roles = o.roles === false ? undefined : (o.roles ?? { src: 'ferry_src', tgt: 'ferry_tgt' });
  const f: CdcFixture = {
    clusters: [],
    get pg() {
      return f.clusters[0];
    },
    stateDir: mkdtempSync(join(tmpdir(), `pgferry-${o.prefix}-`)),
    async databases(name, schema) {
      if (!roles) throw new Error('a fixture without roles makes its databases itself');
      await withClient(f.pg.url(), async (c) => {
        await c.query(`CREATE DATABASE ${name}_src OWNER ${roles.src}`);
        await c.query(`CREATE DATABASE ${name}_tgt OWNER ${roles.tgt}`);
      });
      const source = f.pg.url(`${name}_src`, roles.src);
      if (schema) await withClient(source, (c) => c.query(schema));
      return { source, target: f.pg.url(`${name}_tgt`, roles.tgt) };
    },
    task: (name, source, target, extra = {}) =>
      validateTask({
        name,
        source,
        target,
        stateDir: f.stateDir,
        incremental: true,
        noOwner: true,
        noAcl: true,
        ...extra,
      }),
  };
  before(async () => {
    f.clusters.push(...(await Promise.all((o.versions ?? [15]).map((v) => logicalCluster(v)))));
    if (!roles) return;
    await withClient(f.pg.url(), (c) =>
      c.query(`CREATE ROLE ${roles.src} LOGIN REPLICATION; CREATE ROLE ${roles.tgt} LOGIN; ${roles.more ?? ''}`),
    );
  });
  after(async () => {
    for (const c of f.clusters) await c.stop();
    rmSync(f.stateDir, { recursive: true, force: true });
  });
  return f;
}

export const SRC_PASSWORD = 'src-Secret-7f3a';
export const TGT_PASSWORD = 'tgt-Secret-91c2';

/**
 * Least-privilege accounts for database `db`, filled with `schema` by its owner role app_owner: the
 * source account may log in, replicate, read and publish (as a member of the tables' owner, which
 * PostgreSQL requires of a publication); the target account owns its database, no superuser. The
 * roles are made with the first database of a cluster, and serve the next ones.
 */
export async function captureAccounts(
  src: Cluster,
  tgt: Cluster,
  db: string,
  schema: string,
): Promise<{ source: string; target: string }> {
  const made = async (c: pg.Client, role: string) =>
    Boolean((await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).rowCount);
  const first = await withClient(src.url(), async (c) => {
    if (await made(c, 'app_owner')) return false;
    await c.query(`CREATE ROLE app_owner`);
    await c.query(`CREATE ROLE ferry_src LOGIN REPLICATION PASSWORD '${SRC_PASSWORD}'`);
    return true;
  });
  await withClient(src.url(), async (c) => {
    await c.query(`CREATE DATABASE ${db} OWNER app_owner`);
    await c.query(`REVOKE CONNECT ON DATABASE ${db} FROM PUBLIC; GRANT CONNECT, CREATE ON DATABASE ${db} TO ferry_src`);
    // PostgreSQL lets only a table's owner publish it: membership in the owner (what the precheck asks for)
    await c.query('GRANT app_owner TO ferry_src');
  });
  await withClient(src.url(db), async (c) => {
    await c.query('SET ROLE app_owner');
    await c.query(schema);
  });
  await withClient(tgt.url(), async (c) => {
    if (!(await made(c, 'ferry_tgt'))) await c.query(`CREATE ROLE ferry_tgt LOGIN PASSWORD '${TGT_PASSWORD}'`);
    await c.query(`CREATE DATABASE ${db} OWNER ferry_tgt`);
    if (tgt.version >= 15) await c.query('GRANT SET ON PARAMETER session_replication_role TO ferry_tgt');
  });
  // PostgreSQL 14 and older own public by the bootstrap superuser: let the target account create in it
  if (tgt.version < 15) await withClient(tgt.url(db), (c) => c.query('ALTER SCHEMA public OWNER TO ferry_tgt'));
  if (first) {
    src.setHba(['host all ferry_src 127.0.0.1/32 scram-sha-256']);
    tgt.setHba(['host all ferry_tgt 127.0.0.1/32 scram-sha-256']);
  }
  return { source: src.url(db, 'ferry_src', SRC_PASSWORD), target: tgt.url(db, 'ferry_tgt', TGT_PASSWORD) };
}

/** What `finish` does first: ask the apply to stop once it holds everything the source wrote so far. */
export async function stopAt(sourceUrl: string, targetUrl: string, taskId: string): Promise<void> {
  const lsn = await withClient(
    sourceUrl,
    async (c) => (await c.query('SELECT pg_current_wal_insert_lsn()::text AS l')).rows[0].l,
  );
  useStateSchema(taskId, undefined);
  await withClient(targetUrl, (c) => requestStop(c, taskId, parseLsn(lsn)));
}

export interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** Every line the run printed on stdout (its --json events). */
  stdout: string[];
}

/** `pgferry migrate --incremental --json` in a child process; `onEvent` may SIGKILL it. */
export function runChild(args: string[], onEvent: (e: TimedEvent, kill: () => void) => void): Promise<ChildRun> {
  return new Promise((resolve) => {
    const argv = ['--import', 'tsx', 'test/helpers/cli.ts', 'migrate', '--incremental', '--json', ...args];
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const stdout: string[] = [];
    child.stderr.on('data', (d) => (stderr += d));
    const kill = () => child.kill('SIGKILL');
    createInterface({ input: child.stdout }).on('line', (line) => {
      stdout.push(line);
      try {
        onEvent(JSON.parse(line) as TimedEvent, kill);
      } catch {
        /* not an event */
      }
    });
    child.on('close', (code, signal) => resolve({ code, signal, stderr, stdout }));
  });
}

/** Replication slots and publications left on the source database. */
export async function leftOnSource(url: string): Promise<{ slots: string[]; publications: string[] }> {
  return withClient(url, async (c) => ({
    slots: (
      await c.query<{ s: string }>(
        'SELECT slot_name AS s FROM pg_replication_slots WHERE database = current_database() ORDER BY 1',
      )
    ).rows.map((r) => r.s),
    publications: (await c.query<{ p: string }>('SELECT pubname AS p FROM pg_publication ORDER BY 1')).rows.map(
      (r) => r.p,
    ),
  }));
}

/**
 * Source transactions one after another on one session until stopped: `sql(n)` is the n-th (from 1),
 * sent whole, then a pause of `pauseMs`. stop() resolves to how many were sent.
 */
export function sourceWriter(
  url: string,
  sql: (n: number) => string,
  pauseMs: number,
): { stop: () => Promise<number> } {
  let running = true;
  let n = 0;
  const done = withClient(url, async (c) => {
    while (running) {
      n++;
      await c.query(sql(n));
      await sleep(pauseMs);
    }
  });
  return {
    stop: async () => {
      running = false;
      await done;
      return n;
    },
  };
}

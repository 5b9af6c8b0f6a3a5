/**
 * The setting the workers' tests share: a source and a target PostgreSQL 15 with password accounts
 * (a SELECT-only source role, a target role owning its databases and the control database `ctl`),
 * the workers' host's own ~/.pgpass (no password in the control database), and the processes:
 * `pgferry worker` and `pgferry migrate --distributed --jobs 0` (the coordinator). A test file takes
 * it with workersFixture (started before its tests, stopped after them), and its checks from here:
 * a target equal to the source, no password in what the run left, the control database's task row.
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { TimedEvent } from '../../src/core/events.js';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { passwordHba, sourceAccount } from '../embed/accounts.js';
import { tableHashes, withClient } from '../helpers/compare.js';

export const SRC_PW = 'src-Secret-4711';
export const TGT_PW = 'tgt-Secret-0815';
// a dead worker's job: expired after 4 s, found by the maintenance within 1 s, retried after 1 s
export const TIMING = '4,1,1';

export interface Worker {
  child: ChildProcess;
  out: string[];
  exited: Promise<number | null>;
}

export interface Coordinated {
  code: number | null;
  events: TimedEvent[];
  stderr: string;
}

const noPw = (url: string) => url.replace(/:[^:@/]*@/, '@');

/** Poll `fn` (every 200 ms) until it says true; false after `ms`. */
export async function until(fn: () => Promise<boolean>, ms = 60_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

/** Neither account's password is in any of `texts`. */
export function assertNoPassword(texts: string[]): void {
  for (const text of texts) assert.ok(!text.includes(SRC_PW) && !text.includes(TGT_PW), 'a password leaked');
}

/**
 * A source schema `app`: a table `big` of `bigRows` rows (split into several units) and a small one
 * (`small`, 100 rows), then `extra`, then ANALYZE.
 */
export function appSchema(bigRows: number, extra = ''): string {
  return `
    CREATE SCHEMA app;
    CREATE TABLE app.big (id int PRIMARY KEY, payload text NOT NULL);
    INSERT INTO app.big SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, ${bigRows}) g;
    CREATE TABLE app.small (k text PRIMARY KEY, v int);
    INSERT INTO app.small SELECT 'k' || g, g FROM generate_series(1, 100) g;
    ${extra}
    ANALYZE;`;
}

export interface WorkersOptions {
  /** The file's accounts are `<name>_src` and `<name>_tgt`. */
  name: string;
  /** Run in the source database `shop` (as a superuser) before the source account is made. */
  sourceSql: string;
}

/**
 * The test file's fixture: started before its tests and stopped after them; `stopFirst` runs
 * before the fixture stops (for what the file started on the servers: a pgferry serve).
 */
export function workersFixture(o: WorkersOptions, stopFirst?: () => Promise<void>): WorkersFixture {
  const fx = new WorkersFixture(o);
  before(() => fx.start());
  after(async () => {
    await stopFirst?.();
    await fx.stop();
  });
  return fx;
}

export class WorkersFixture {
  src!: Cluster;
  tgt!: Cluster;
  /** The source account's URI (with its password: the coordinator's command line). */
  srcUrl = '';
  readonly dir: string;
  readonly pgpass: string;
  /** The source account (CONNECT, USAGE, SELECT) and the target account (owns its databases). */
  readonly srcRole: string;
  readonly tgtRole: string;
  private readonly children = new Set<ChildProcess>();

  constructor(private readonly o: WorkersOptions) {
    this.dir = mkdtempSync(join(tmpdir(), `pgferry-workers-${o.name}-`));
    this.pgpass = join(this.dir, 'pgpass');
    this.srcRole = `${o.name}_src`;
    this.tgtRole = `${o.name}_tgt`;
  }

  async start(): Promise<void> {
    const { srcRole, tgtRole } = this;
    const hba = passwordHba([srcRole, tgtRole]);
    [this.src, this.tgt] = await Promise.all([startCluster({ version: 15, hba }), startCluster({ version: 15, hba })]);
    await withClient(this.src.url(), (c) => c.query('CREATE DATABASE shop'));
    await withClient(this.src.url('shop'), (c) => c.query(this.o.sourceSql));
    this.srcUrl = await sourceAccount(this.src, 'shop', srcRole, SRC_PW, ['app']);
    await withClient(this.tgt.url(), async (c) => {
      await c.query(`CREATE ROLE ${tgtRole} LOGIN PASSWORD '${TGT_PW}'`);
      await c.query(`CREATE DATABASE ctl OWNER ${tgtRole}`);
    });
    // the workers' host: passwords in its own ~/.pgpass, none in the control database
    writeFileSync(
      this.pgpass,
      [
        `127.0.0.1:${this.src.port}:*:${srcRole}:${SRC_PW}`,
        `127.0.0.1:${this.tgt.port}:*:${tgtRole}:${TGT_PW}`,
        '',
      ].join('\n'),
    );
    chmodSync(this.pgpass, 0o600);
  }

  async stop(): Promise<void> {
    for (const c of this.children) c.kill('SIGKILL');
    await Promise.all([this.src?.stop(), this.tgt?.stop()]);
    rmSync(this.dir, { recursive: true, force: true });
  }

  env(): NodeJS.ProcessEnv {
    return { ...process.env, PGPASSFILE: this.pgpass, PGFERRY_JOB_TIMING: TIMING, PGPASSWORD: '' };
  }

  controlUrl(): string {
    return noPw(this.tgt.url('ctl', this.tgtRole, 'x'));
  }

  /** The target database `db` as the target account, with its password. */
  targetUrl(db: string): string {
    return this.tgt.url(db, this.tgtRole, TGT_PW);
  }

  /** A new target database `db`, owned by the target account. */
  async newTarget(db: string): Promise<void> {
    await withClient(this.tgt.url(), (c) => c.query(`CREATE DATABASE ${db} OWNER ${this.tgtRole}`));
  }

  /** Target database `db` holds the source's rows (content hashes of every table). */
  async assertSameRows(db: string): Promise<void> {
    assert.deepEqual(await tableHashes(this.tgt.url(db)), await tableHashes(this.src.url('shop')));
  }

  /** Is a statement starting like `like` (a LIKE pattern) running on target database `db`? */
  async running(db: string, like: string): Promise<boolean> {
    const r = await withClient(this.tgt.url(db), (c) =>
      c.query(`SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND state = 'active' AND query LIKE $2`, [db, like]),
    ).catch(() => ({ rowCount: 0 }));
    return (r.rowCount ?? 0) > 0;
  }

  /** The task's row in the control database (paused for the workers, running), if any. */
  async controlTask(task: string): Promise<{ paused: boolean; running: boolean } | undefined> {
    const r = await withClient(this.tgt.url('ctl'), (c) =>
      c.query('SELECT paused, running FROM pgferry_control.task WHERE task_id = $1', [task]),
    );
    return r.rows[0];
  }

  /** Every task and job row of the control database, as text (to look for passwords in). */
  async controlDump(): Promise<string> {
    const r = await withClient(this.tgt.url('ctl'), (c) =>
      c.query(`SELECT t::text FROM pgferry_control.task t UNION ALL SELECT j::text FROM pgferry_jobs.job j`),
    );
    return JSON.stringify(r.rows);
  }

  /** A `pgferry worker` process, once it says it is copying. */
  startWorker(extraEnv: NodeJS.ProcessEnv = {}): Promise<Worker> {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/helpers/cli.ts', 'worker', '--json', '--jobs', '1', '--control', this.controlUrl()],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...this.env(), ...extraEnv } },
    );
    this.children.add(child);
    const out: string[] = [];
    const exited = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
    exited.then(() => this.children.delete(child));
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    return new Promise((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        out.push(line);
        if (/copying units of running tasks/.test(line)) resolve({ child, out, exited });
      });
      exited.then((code) => reject(new Error(`worker exited ${code}: ${stderr}`)));
    });
  }

  /**
   * The coordinator's run into target database `db` (made already) with `args`, with one worker that is
   * killed (SIGKILL) once a statement starting like `like` runs on `db` (looked for every `everyMs`), and
   * another started then. When the kill came (0: never), the killed worker, the one started after it
   * (stopped again once the run ended).
   */
  async killWhileRunning(
    db: string,
    like: string,
    args: string[],
    everyMs = 200,
  ): Promise<{ run: Coordinated; killedAt: number; killed: Worker; taker?: Worker }> {
    const killed = await this.startWorker();
    let killedAt = 0;
    let next: Promise<Worker> | undefined;
    const watch = setInterval(async () => {
      if (killedAt) return;
      const busy = await this.running(db, like);
      if (!busy || killedAt) return;
      killedAt = Date.now();
      killed.child.kill('SIGKILL');
      next = this.startWorker();
    }, everyMs);
    const run = await this.runCoordinator(db, args, () => {});
    clearInterval(watch);
    const taker = next ? await next : undefined;
    if (taker) await this.stopWorker(taker);
    return { run, killedAt, killed, taker };
  }

  /** Stop a worker (SIGTERM) and wait for its end; a function of its own (`workers.map(fx.stopWorker)`). */
  readonly stopWorker = async (w: Worker): Promise<void> => {
    w.child.kill('SIGTERM');
    await w.exited;
  };

  /** `pgferry migrate --distributed --jobs 0` into database `db`; `onEvent` sees every event. */
  runCoordinator(
    db: string,
    extra: string[],
    onEvent: (e: TimedEvent) => void,
    extraEnv: NodeJS.ProcessEnv = {},
  ): Promise<Coordinated> {
    return new Promise((resolve) => {
      const child = spawn(
        process.execPath,
        [
          ...['--import', 'tsx', 'test/helpers/cli.ts', 'migrate', '--json', '--name', db],
          ...['--state-dir', join(this.dir, 'state'), '-s', this.srcUrl, '-t', this.targetUrl(db)],
          ...['--distributed', '--control', this.controlUrl(), '--jobs', '0', '--verify', 'hash'],
          ...['--split-threshold-mb', '1', '--unit-mb', '0.5', '--no-owner', '--no-acl'],
          ...extra,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'], env: { ...this.env(), ...extraEnv } },
      );
      this.children.add(child);
      const events: TimedEvent[] = [];
      let stderr = '';
      child.stderr!.on('data', (d) => (stderr += d));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        try {
          const e = JSON.parse(line) as TimedEvent;
          events.push(e);
          onEvent(e);
        } catch {
          /* not an event */
        }
      });
      child.on('close', (code) => {
        this.children.delete(child);
        resolve({ code, events, stderr });
      });
    });
  }
}

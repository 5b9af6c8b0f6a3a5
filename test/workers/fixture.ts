/**
 * The setting the workers' tests share: a source and a target PostgreSQL 15 with password accounts
 * (a SELECT-only source role, a target role owning its databases and the control database `ctl`),
 * the workers' host's own ~/.pgpass (no password in the control database), and the processes:
 * `pgferry worker` and `pgferry migrate --distributed --jobs 0` (the coordinator).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { TimedEvent } from '../../src/core/events.js';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { passwordHba, sourceAccount } from '../embed/accounts.js';
import { withClient } from '../helpers/compare.js';

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

export class WorkersFixture {
  src!: Cluster;
  tgt!: Cluster;
  /** The source account's URI (with its password: the coordinator's command line). */
  srcUrl = '';
  readonly dir: string;
  readonly pgpass: string;
  private readonly children = new Set<ChildProcess>();

  constructor(private readonly o: { srcRole: string; tgtRole: string; tmpPrefix: string; sourceSql: string }) {
    this.dir = mkdtempSync(join(tmpdir(), o.tmpPrefix));
    this.pgpass = join(this.dir, 'pgpass');
  }

  async start(): Promise<void> {
    const { srcRole, tgtRole } = this.o;
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
    return noPw(this.tgt.url('ctl', this.o.tgtRole, 'x'));
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

  async stopWorker(w: Worker): Promise<void> {
    w.child.kill('SIGTERM');
    await w.exited;
  }

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
          ...[
            '--state-dir',
            join(this.dir, 'state'),
            '-s',
            this.srcUrl,
            '-t',
            this.tgt.url(db, this.o.tgtRole, TGT_PW),
          ],
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

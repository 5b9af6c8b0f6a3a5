import { Command, InvalidArgumentError } from 'commander';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { withClient } from '../../pg/connect.js';
import { resolveConnSpec } from '../../pg/connstring.js';
import { sampleDatabaseSql } from '../../dev/demo/sample.js';
import { startCluster, type Cluster } from '../../dev/embedded/cluster.js';
import { EventBus } from '../../core/events.js';
import { validateTask } from '../../core/config.js';
import { migrate } from '../../engine/runner.js';
import { PgferryError } from '../../core/errors.js';
import { EXIT } from '../exit.js';
import { attachProgress, fmtDuration, progressMode } from '../progress.js';
import { fmtBytes } from '../../stages/report/index.js';
import { out } from '../output.js';
import { plural } from '../../core/plural.js';
import { intArg } from '../args.js';
import { demoConsole } from './demo-console.js';
import { listenArg } from './serve.js';

const scaleArg = (v: string) => {
  const n = Number(v);
  if (!/^\s*\d*\.?\d+\s*$/.test(v) || !(n > 0))
    throw new InvalidArgumentError('expected a positive number, e.g. 0.5 or 2.');
  return n;
};

export function demoCommand(): Command {
  return new Command('demo')
    .description(
      'start an embedded PostgreSQL 12 source and 17 target, generate a sample shop database, migrate it with live progress, verify, print a summary, and shut both down; with --console, serve the web console with the task ready to start instead',
    )
    .option('--source-version <major>', 'source major version (default 12)', intArg(10, 18), 12)
    .option('--target-version <major>', 'target major version (default 17)', intArg(10, 18), 17)
    .option('--scale <n>', 'sample size (1 ≈ 70k rows)', scaleArg, 1)
    .option('-j, --jobs <n>', 'parallel COPY workers, 1..64', intArg(1, 64), 4)
    .option('--json', 'print JSON events instead of progress bars')
    .option(
      '--console',
      'instead of migrating: serve the web console with the task created and prechecked, until Ctrl-C',
    )
    .option('--listen <host:port>', 'with --console: address of the console (default 127.0.0.1:7300)', listenArg)
    .action(
      async (o: {
        sourceVersion: number;
        targetVersion: number;
        scale: number;
        jobs: number;
        json?: boolean;
        console?: boolean;
        listen?: { host: string; port: number };
      }) => {
        if (o.console) return consoleDemo(o);
        const t0 = Date.now();
        const clusters: Cluster[] = [];
        const stateDir = mkdtempSync(join(tmpdir(), 'pgferry-demo-state-'));
        try {
          out(`starting PostgreSQL ${o.sourceVersion} (source) and ${o.targetVersion} (target) …`);
          const [src, tgt] = await Promise.all([
            startCluster({ version: o.sourceVersion, name: 'pgferry-demo' }),
            startCluster({ version: o.targetVersion, name: 'pgferry-demo' }),
          ]);
          clusters.push(src, tgt);
          out(`generating the sample database "shop" on the source (scale ${o.scale}) …`);
          await withDb(src.url(), (c) => c.query('CREATE DATABASE shop'));
          await withDb(tgt.url(), (c) => c.query('CREATE DATABASE shop'));
          await withDb(src.url('shop'), (c) => c.query(sampleDatabaseSql(o.scale)));
          const task = validateTask({
            name: 'demo',
            source: src.url('shop'),
            target: tgt.url('shop'),
            jobs: o.jobs,
            stateDir,
            verify: 'count',
          });
          const events = new EventBus();
          const stop = attachProgress(events, progressMode(o.json));
          const result = await migrate(task, { events }).finally(stop);
          const rows = result.copy?.tables.reduce((a, t) => a + t.rows, 0) ?? 0;
          const bytes = result.copy?.tables.reduce((a, t) => a + t.bytes, 0) ?? 0;
          const objects = Object.entries(result.objectsByKind)
            .sort()
            .map(([k, n]) => `${n} ${k}`)
            .join(', ');
          const v = result.verify;
          out('');
          out(`pgferry demo: PostgreSQL ${o.sourceVersion} → ${o.targetVersion}`);
          out(`  objects created: ${objects || 'none'}`);
          out(
            `  rows copied:     ${plural(rows, 'row')} in ${plural(result.copy?.tables.length ?? 0, 'table')} (${fmtBytes(bytes)})`,
          );
          out(
            `  verification:    ${v ? (v.ok ? `row counts equal on all ${plural(v.tables.length, 'table')}` : 'DIFFERENCES FOUND') : 'not run'}`,
          );
          out(`  total time:      ${fmtDuration(Date.now() - t0)} (migration ${fmtDuration(result.durationMs)})`);
          if (v && !v.ok)
            throw new PgferryError('verify', 'the demo migration did not verify', { hint: `see ${result.state.dir}` });
          process.exitCode = EXIT.ok;
        } finally {
          for (const c of clusters) await c.stop();
          rmSync(stateDir, { recursive: true, force: true });
        }
      },
    );
}

/** The demo's servers and sample database, then the console over them until Ctrl-C. */
async function consoleDemo(o: {
  sourceVersion: number;
  targetVersion: number;
  scale: number;
  jobs: number;
  listen?: { host: string; port: number };
}): Promise<void> {
  out(`starting PostgreSQL ${o.sourceVersion} (source) and ${o.targetVersion} (target) …`);
  const started = await Promise.allSettled([
    startCluster({ version: o.sourceVersion, name: 'pgferry-demo' }),
    startCluster({ version: o.targetVersion, name: 'pgferry-demo' }),
  ]);
  const clusters = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  try {
    for (const r of started) if (r.status === 'rejected') throw r.reason;
    const [src, tgt] = clusters;
    for (const [side, c] of [
      ['source', src],
      ['target', tgt],
    ] as const) {
      out(`${side}: PostgreSQL ${c.version} at ${c.host}:${c.port} (data in ${c.dataDir})`);
    }
    out(`generating the sample database "shop" on the source (scale ${o.scale}) …`);
    await withDb(src.url(), (c) => c.query('CREATE DATABASE shop'));
    await withDb(tgt.url(), (c) => c.query('CREATE DATABASE shop'));
    await withDb(src.url('shop'), (c) => c.query(sampleDatabaseSql(o.scale)));
    await demoConsole({ src, tgt, jobs: o.jobs, listen: o.listen ?? { host: '127.0.0.1', port: 7300 } });
  } catch (e) {
    for (const c of clusters) await c.stop();
    throw e;
  }
}

function withDb<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  return withClient(resolveConnSpec(url), { label: 'demo' }, fn);
}

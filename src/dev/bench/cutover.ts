/**
 * `npm run bench -- --cutover [--scale N] [--from 12] [--to 17]`: the write downtime of pgferry's
 * incremental migration against an offline one, in one run on the same machine. The demo's sample
 * database (src/dev/demo) on a source cluster (wal_level=logical) is migrated to a target cluster
 * twice: offline (`migrate`, writes stopped for the whole run: its downtime is the run's wall time),
 * and incremental (`migrate --incremental` while an application writes orders, then
 * `cutover --read-only`: writes stopped from the read-only to the target being ready).
 * Accounts: a non-superuser source owner with REPLICATION, a non-superuser target owner.
 */
import { loadavg } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { validateTask } from '../../core/config.js';
import { EventBus } from '../../core/events.js';
import { cutover } from '../../engine/cutover.js';
import { migrate } from '../../engine/runner.js';
import { sampleDatabaseSql } from '../demo/sample.js';
import { startCluster } from '../embedded/cluster.js';
import { arg, q } from './tools.js';

const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** The application: order transactions one after another until stopped; refused ones counted. */
function application(url: string) {
  let running = true;
  let ok = 0;
  let refused = 0;
  const done = (async () => {
    while (running) {
      try {
        await q(
          url,
          `WITH o AS (INSERT INTO shop.orders (customer_id, placed_at, total) VALUES (1 + (random() * 4000)::int, now(), 10) RETURNING id)
           INSERT INTO shop.order_items (order_id, product_id, qty, unit_price) SELECT id, 1 + (random() * 400)::int, 2, 5 FROM o`,
        );
        ok++;
      } catch (e) {
        if ((e as { code?: string }).code !== '25006') throw e;
        refused++;
      }
      await sleep(5);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
      return { ok, refused };
    },
  };
}

export async function runCutoverBench(): Promise<void> {
  const scale = Number(arg('scale', '1'));
  const from = Number(arg('from', '12'));
  const to = Number(arg('to', '17'));
  const logical = { wal_level: 'logical', max_replication_slots: 10, max_wal_senders: 10 };
  const source = await startCluster({ version: from, fast: false, name: 'pgferry-bench-src', settings: logical });
  const target = await startCluster({ version: to, fast: false, name: 'pgferry-bench-tgt' });
  const state = mkdtempSync(join(tmpdir(), 'pgferry-bench-cutover-'));
  try {
    await q(source.url(), 'CREATE ROLE ferry_src LOGIN REPLICATION');
    await q(source.url(), 'CREATE DATABASE shop OWNER ferry_src');
    await q(target.url(), 'CREATE ROLE ferry_tgt LOGIN');
    for (const db of ['offline', 'incremental']) await q(target.url(), `CREATE DATABASE ${db} OWNER ferry_tgt`);
    const src = source.url('shop', 'ferry_src');
    process.stderr.write(`building the demo sample at scale ${scale} on PostgreSQL ${from}…\n`);
    await q(src, sampleDatabaseSql(scale));
    // logical replication needs a replica identity on every table: the keyless one replicates whole rows
    const keyless = await q(
      src,
      `SELECT format('%I.%I', n.nspname, c.relname) AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)`,
    );
    for (const r of keyless.rows) await q(src, `ALTER TABLE ${r.t} REPLICA IDENTITY FULL`);
    await q(src, 'VACUUM ANALYZE');
    const common = { source: src, stateDir: state, noOwner: true, noAcl: true, verify: 'none' };

    const t0 = Date.now();
    await migrate(validateTask({ ...common, name: 'offline', target: target.url('offline', 'ferry_tgt') }), {
      events: new EventBus(),
    });
    const offlineMs = Date.now() - t0;

    const task = validateTask({
      ...common,
      name: 'incremental',
      target: target.url('incremental', 'ferry_tgt'),
      incremental: true,
    });
    const app = application(src);
    const events = new EventBus();
    let streaming!: () => void;
    const streams = new Promise<void>((r) => (streaming = r));
    events.on((e) => {
      if (e.type === 'cdc-lag') streaming();
    });
    const ac = new AbortController();
    const run = migrate(task, { events, signal: ac.signal });
    let result: Awaited<ReturnType<typeof cutover>>;
    let writes: Awaited<ReturnType<typeof app.stop>>;
    const load = loadavg()[0].toFixed(1);
    try {
      await Promise.race([streams, run]);
      await sleep(3_000); // the application writes on while the changes stream
      const steps = new EventBus();
      steps.on((e) => {
        if (e.type === 'log') process.stderr.write(`  ${e.message}\n`);
      });
      result = await cutover(task, { readOnly: true, events: steps });
    } finally {
      writes = await app.stop();
      ac.abort(new Error('bench over'));
      await run.catch(() => {});
    }

    process.stdout.write(
      `cutover bench: demo sample scale ${scale}, PostgreSQL ${from} → ${to}, load average ${load} at the cutover\n` +
        `  offline migration (writes stopped for the whole run): ${fmt(offlineMs)}\n` +
        `  incremental cutover --read-only, write downtime:      ${fmt(result.downtimeMs)} ` +
        `(${(offlineMs / result.downtimeMs).toFixed(1)}× shorter)\n` +
        result.steps.map((s) => `    ${s.step.padEnd(28)} ${fmt(s.durationMs)}\n`).join('') +
        `  application: ${writes.ok} order transactions committed, ${writes.refused} refused while read-only\n`,
    );
  } finally {
    await source.stop();
    await target.stop();
    rmSync(state, { recursive: true, force: true });
  }
}

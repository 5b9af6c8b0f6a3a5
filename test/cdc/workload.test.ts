// Incremental migration under a concurrent write workload, 15→15 and 12→17, least-privilege accounts.
// The workload runs during the copy and the stream: inserts, updates (primary-key changes and
// partition moves too), deletes, truncates, TOASTed values changed and left alone, numeric, arrays,
// jsonb, timestamptz, bytea, an enum, a keyless table (REPLICA IDENTITY FULL) and a partitioned table.
// The run is killed with SIGKILL during the apply, rerun, then the source server restarts and later the
// target server restarts under it: the run reconnects by itself each time (retry events, then more
// applied transactions). Writes stop, `pgferry finish` cuts over, and the target equals the source by
// content hash, with the slot and publication gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { Cluster } from '../../src/dev/embedded/cluster.js';
import type { TimedEvent } from '../../src/core/events.js';
import { finishTask } from '../../src/cli/commands/finish.js';
import { tableHashes } from '../helpers/compare.js';
import {
  captureAccounts,
  cdcFixture,
  leftOnSource,
  runChild,
  SRC_PASSWORD,
  TGT_PASSWORD,
  type ChildRun,
} from './helpers.js';

// one pair at a time keeps the machine usable; both pairs' servers start first and are shared
const { clusters, stateDir } = cdcFixture({ prefix: 'cdc-workload', versions: [15, 15, 12, 17], roles: false });

const SCHEMA = `
  CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
  CREATE TABLE acct (id bigint PRIMARY KEY, n numeric(14,2), tags int[], doc jsonb, at timestamptz, b bytea,
                     m mood, big text);
  ALTER TABLE acct ALTER big SET STORAGE EXTERNAL;
  INSERT INTO acct SELECT g, g * 1.25, ARRAY[g, g + 1], jsonb_build_object('g', g, 'a', ARRAY[g]),
         timestamptz '2024-01-01 00:00+00' + g * interval '1 minute', decode(md5(g::text), 'hex'),
         (ARRAY['sad', 'ok', 'happy']::mood[])[1 + g % 3],
         CASE WHEN g % 7 = 0 THEN (SELECT string_agg(md5(g::text || x), '') FROM generate_series(1, 300) x) END
    FROM generate_series(1, 400) g;
  CREATE TABLE bag (v text, n int);
  ALTER TABLE bag REPLICA IDENTITY FULL;
  INSERT INTO bag SELECT 'v' || g % 5, g % 3 FROM generate_series(1, 50) g;
  CREATE TABLE part (id bigint PRIMARY KEY, v text) PARTITION BY RANGE (id);
  CREATE TABLE part_low PARTITION OF part FOR VALUES FROM (MINVALUE) TO (1000000);
  CREATE TABLE part_high PARTITION OF part FOR VALUES FROM (1000000) TO (MAXVALUE);
  INSERT INTO part SELECT g, 'p' || g FROM generate_series(1, 200) g;
  CREATE TABLE scratch (id serial PRIMARY KEY, x text);
  INSERT INTO scratch (x) SELECT 's' || g FROM generate_series(1, 5) g;`;

/** Source transaction number n of the workload (deterministic, one client, so never a conflict). */
function step(n: number): string {
  const k = 1 + ((n * 37) % 400);
  return `BEGIN;
    INSERT INTO acct VALUES (${10_000 + n}, ${n} * 1.25, ARRAY[${n}, NULL], jsonb_build_object('n', ${n}, 'q', 'a"b'),
      timestamptz '2024-06-01 12:00+02' + ${n} * interval '1 second', decode(md5('${n}'), 'hex'),
      (ARRAY['sad', 'ok', 'happy']::mood[])[1 + ${n} % 3],
      CASE WHEN ${n} % 7 = 0 THEN (SELECT string_agg(md5(x || '-${n}'), '') FROM generate_series(1, 300) x) END);
    UPDATE acct SET n = n + 0.01, at = at + interval '1 second' WHERE id = ${k};
    ${n % 5 === 0 ? `UPDATE acct SET id = id + 1000000 WHERE id = ${1 + ((n * 13) % 400)};` : ''}
    ${n % 3 === 0 ? `DELETE FROM acct WHERE id = ${10_000 + n - 2};` : ''}
    ${n % 4 === 0 ? `UPDATE acct SET big = repeat(md5('${n}'), 200), tags = tags || ${n} WHERE id = ${k};` : ''}
    INSERT INTO bag VALUES ('v' || ${n % 5}, ${n % 3});
    ${n % 2 === 0 ? `DELETE FROM bag WHERE ctid = (SELECT ctid FROM bag WHERE v = 'v' || ${(n + 2) % 5} LIMIT 1);` : ''}
    ${n % 3 === 0 ? `UPDATE bag SET n = n + 1 WHERE ctid = (SELECT ctid FROM bag WHERE v = 'v' || ${(n + 1) % 5} LIMIT 1);` : ''}
    INSERT INTO part VALUES (${1000 + n}, 'w${n}');
    ${n % 6 === 0 ? `UPDATE part SET id = id + 1000000 WHERE id = ${1 + ((n * 7) % 200)};` : ''}
    UPDATE part SET v = v || '.' WHERE id = ${1000 + Math.max(1, n - 3)};
    ${n % 40 === 0 ? 'TRUNCATE scratch;' : ''}
    INSERT INTO scratch (x) VALUES ('w${n}');
    COMMIT`;
}

/** Writes to the source until stopped, reconnecting when the server restarts under it. */
class Workload {
  private running = true;
  private done: Promise<void>;
  n = 0;
  lost = 0;

  constructor(url: string) {
    this.done = this.loop(url);
  }

  private async loop(url: string): Promise<void> {
    while (this.running) {
      const c = new pg.Client({ connectionString: url });
      c.on('error', () => {});
      try {
        await c.connect();
        while (this.running) {
          await c.query(step(++this.n));
          await sleep(5);
        }
      } catch {
        this.lost++;
        await sleep(200);
      } finally {
        await c.end().catch(() => {});
      }
    }
  }

  async stop(): Promise<number> {
    this.running = false;
    await this.done;
    return this.n;
  }
}

/** Wait for `cond` (checked every 100 ms) while the run lives; fails naming `what`. */
async function until(what: string, cond: () => boolean, run: { ended?: ChildRun }, sec = 90): Promise<void> {
  const end = Date.now() + sec * 1000;
  while (!cond()) {
    if (run.ended) assert.fail(`the run ended before ${what}: ${run.ended.code} ${run.ended.stderr}`);
    if (Date.now() > end) assert.fail(`no ${what} within ${sec}s`);
    await sleep(100);
  }
}

const lags = (ev: TimedEvent[]) => ev.filter((e) => e.type === 'cdc-lag');
const lsnBig = (s: string) => {
  const [hi, lo] = s.split('/');
  return (BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`);
};

/** Applied more after index `from` of the events than the last lag event before it said. */
function appliedSince(ev: TimedEvent[], from: number): boolean {
  const before = lags(ev.slice(0, from)).at(-1);
  const was = before?.type === 'cdc-lag' ? lsnBig(before.appliedLsn) : 0n;
  return lags(ev.slice(from)).some((e) => e.type === 'cdc-lag' && lsnBig(e.appliedLsn) > was && e.txnsPerSec > 0);
}

async function scenario(src: Cluster, tgt: Cluster, name: string): Promise<void> {
  const { source, target } = await captureAccounts(src, tgt, `w_${name}`, SCHEMA);
  const args = ['--name', name, '--state-dir', stateDir, '-s', source, '-t', target, '--no-owner', '--no-acl'];
  const w = new Workload(src.url(`w_${name}`));
  try {
    await sleep(300); // writes are under way before the copy starts
    // 1: kill -9 at a random moment of the apply
    const killed = await runChild([...args, '--verify', 'none'], (e, kill) => {
      if (e.type === 'phase-start' && e.phase === 'cdc') setTimeout(kill, 500 + Math.random() * 1500);
    });
    assert.equal(killed.signal, 'SIGKILL', `killed during the apply: ${killed.stderr}`);

    // 2: the rerun resumes; the source restarts, then the target, under the running apply
    const ev: TimedEvent[] = [];
    const run: { ended?: ChildRun } = {};
    const running = runChild([...args, '--verify', 'hash'], (e) => ev.push(e)).then((r) => (run.ended = r));
    await until('apply after the rerun', () => appliedSince(ev, 0), run);
    let mark = ev.length;
    src.restart();
    await until('retry after the source restart', () => ev.slice(mark).some((e) => e.type === 'retry'), run);
    await until('apply after the source restart', () => appliedSince(ev, mark), run);
    mark = ev.length;
    tgt.restart();
    await until('retry after the target restart', () => ev.slice(mark).some((e) => e.type === 'retry'), run);
    await until('apply after the target restart', () => appliedSince(ev, mark), run);

    // cutover: writes stop, finish stops the apply at the source's position, verify, drop slot and publication
    const writes = await w.stop();
    const logged: string[] = [];
    await finishTask(
      { task: name, stateDir, target, source },
      { log: (t) => logged.push(t), confirm: async () => false },
    );
    const r = await running;
    const failedVerify = ev.filter((e) => e.type === 'verify-result' && !e.ok);
    assert.equal(r.code, 0, `${r.stderr} ${JSON.stringify(failedVerify)}`);
    assert.deepEqual(failedVerify, []);
    assert.ok(writes > 50, `the workload wrote ${writes} transactions`);
    assert.deepEqual(await tableHashes(target), await tableHashes(src.url(`w_${name}`)));
    assert.deepEqual(await leftOnSource(src.url(`w_${name}`)), { slots: [], publications: [] });
    const all = [...killed.stdout, killed.stderr, ...r.stdout, r.stderr, ...logged].join('\n');
    assert.ok(!all.includes(SRC_PASSWORD) && !all.includes(TGT_PASSWORD), 'no password in output or events');
  } finally {
    await w.stop();
  }
}

test('incremental 15→15 under a write workload: kill -9 during the apply, source restart, target restart; target equals source', async () => {
  await scenario(clusters[0], clusters[1], 'wl15');
});

test('incremental 12→17 under a write workload: kill -9 during the apply, source restart, target restart; target equals source', async () => {
  await scenario(clusters[2], clusters[3], 'wl12');
});

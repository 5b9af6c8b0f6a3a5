// Incremental migration of a partitioned table that gains a partition on the source after the copy
// started, 15→15 (the root is published, changes arrive under it) and 12→17 (PostgreSQL 12 publishes
// partitions one by one), least-privilege accounts. Never a silent loss: the run stops naming the
// partition and the statement that creates it on the target; once it is there, the rerun continues
// and the target equals the source by content hash, nothing lost or doubled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Cluster } from '../../src/dev/embedded/cluster.js';
import type { TaskConfig } from '../../src/core/config.js';
import { PgferryError } from '../../src/core/errors.js';
import { EventBus, type TimedEvent } from '../../src/core/events.js';
import { migrate } from '../../src/engine/runner.js';
import { finishTask } from '../../src/cli/commands/finish.js';
import { FACT_RELATIONS_SQL } from '../../src/stages/schema/catalog/sql/facts.js';
import { tableHashes, withClient } from '../helpers/compare.js';
import { captureAccounts, cdcFixture, leftOnSource, stopAt } from './helpers.js';

const fx = cdcFixture({ prefix: 'cdc-parts', versions: [15, 15, 12, 17], roles: false });

const SCHEMA = `
  CREATE TABLE ev (id int, at date, v text, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
  CREATE TABLE ev_2024 PARTITION OF ev FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
  INSERT INTO ev SELECT g, date '2024-01-01' + g, 'v' || g FROM generate_series(1, 300) g;`;

const NEW_PARTITION = `CREATE TABLE ev_2025 PARTITION OF ev FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')`;
const TARGET_FIX = `CREATE TABLE public.ev_2025 PARTITION OF public.ev FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');`;

/** Writes into the new partition: inserts, rows moved into it from the old one, an update and a delete there. */
const WRITES = (from: number) => `
  INSERT INTO ev SELECT g, date '2025-01-01' + g % 300, 'new' || g FROM generate_series(${from}, ${from + 40}) g;
  UPDATE ev SET at = at + 366 WHERE id BETWEEN ${from / 100} AND ${from / 100 + 4};
  UPDATE ev SET v = 'changed' WHERE id = ${from + 1};
  DELETE FROM ev WHERE id = ${from + 2};`;

const applyStarts = (e: TimedEvent) => e.type === 'phase-start' && e.phase === 'cdc';

/**
 * Run `migrate` until it ends; `onCdc` runs at the first event `when` takes (default: the apply
 * starts). With `stopAfterMs`, a run that goes on regardless is asked to stop after that long.
 */
async function runUntilEnd(
  task: TaskConfig,
  onCdc: () => Promise<void>,
  o: { when?: (e: TimedEvent) => boolean; stopAfterMs?: number; seen?: TimedEvent[] } = {},
): Promise<{ error?: unknown; events: TimedEvent[] }> {
  const { when = applyStarts, stopAfterMs } = o;
  const events = new EventBus();
  const seen: TimedEvent[] = o.seen ?? [];
  let started: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  events.on((e) => {
    seen.push(e);
    if (when(e) && !started) {
      started = onCdc().then(() => {
        if (stopAfterMs !== undefined)
          timer = setTimeout(() => void stopAt(task.source, task.target, task.name!).catch(() => {}), stopAfterMs);
      });
    }
  });
  const error = await migrate(task, { events }).then(
    () => undefined,
    (e: unknown) => e,
  );
  clearTimeout(timer);
  await started;
  return { error, events: seen };
}

/**
 * Count the source's catalog facts reads (their relations query, logged by log_statement) in database
 * `db` from now until the data phase starts: `mark` is given the run's events, `count` says how many.
 */
async function factsReads(src: Cluster, db: string): Promise<{ mark: (e: TimedEvent) => void; count: () => number }> {
  await withClient(src.url(), (c) => c.query(`ALTER DATABASE ${db} SET log_statement = 'all'`));
  const logged = () => readFileSync(src.logFile, 'utf8');
  const from = logged().length;
  const head = FACT_RELATIONS_SQL.trim().split('\n')[0];
  let to: number | undefined;
  return {
    // the data phase starts after the run's catalog read, its precheck and its schema phase
    mark: (e) => {
      if (to === undefined && e.type === 'phase-start' && e.phase === 'data') to = logged().length;
    },
    count: () => logged().slice(from, to).split(head).length - 1,
  };
}

/** Run SQL on the source database as the tables' owner role (the application's writes and DDL). */
function asOwner(src: Cluster, db: string): (sql: string) => Promise<void> {
  return (sql) =>
    withClient(src.url(db), async (c) => {
      await c.query('SET ROLE app_owner');
      await c.query(sql);
    });
}

async function scenario(src: Cluster, tgt: Cluster, name: string): Promise<void> {
  const db = `p_${name}`;
  const { source, target } = await captureAccounts(src, tgt, db, SCHEMA);
  const owner = asOwner(src, db);
  const task = (verify: 'none' | 'hash') => fx.task(name, source, target, { verify });

  // 1: the partition is created on the source after the copy (and, from 13 on, written at once)
  const rootPublished = src.version >= 13;
  const first = await runUntilEnd(
    task('none'),
    () => owner(rootPublished ? `${NEW_PARTITION}; ${WRITES(1000)}` : NEW_PARTITION),
    // a run that would stream on regardless is stopped, to show as a run that ended without an error
    { stopAfterMs: 60_000 },
  );
  assert.ok(first.error instanceof PgferryError, `the run stops with a clear error, not ${String(first.error)}`);
  assert.equal(
    first.events.some(
      (e) => e.type === 'log' && e.level === 'warn' && /published through their root: public\.ev\b/.test(e.message),
    ),
    rootPublished,
    'the run says which tables are published through their root, and what that does not carry',
  );
  assert.match(
    first.error.message,
    rootPublished
      ? /the target table public\.ev has no partition for a row streamed from public\.ev \(Partition key of the failing row contains \(at\) = \(2025-/
      : /partition public\.ev_2025 of public\.ev was created or attached on the source after the task started, and the target has no table public\.ev_2025/,
  );
  assert.ok(first.error.hint?.includes(TARGET_FIX), first.error.hint);
  assert.match(first.error.hint ?? '', /run the same command again/);

  // 2: the fix the error gives, then the same command: it continues, more writes arrive, nothing lost or doubled
  await withClient(target, (c) => c.query(TARGET_FIX));
  const added = (e: TimedEvent) => e.type === 'log' && /added to the publication: public\.ev_2025/.test(e.message);
  const reads = await factsReads(src, db);
  const second = await runUntilEnd(
    task('hash'),
    async () => {
      await owner(WRITES(2000));
      await stopAt(source, target, name);
    },
    // PostgreSQL 12: the rerun publishes the (still empty) partition as the apply starts
    {
      when: (e) => {
        reads.mark(e);
        return rootPublished ? applyStarts(e) : added(e);
      },
    },
  );
  assert.equal(second.error, undefined, String(second.error));
  assert.equal(
    reads.count(),
    1,
    'the rerun after the copy reads the catalog facts once: late partitions come from that read',
  );
  assert.ok(
    second.events.some(
      (e) => e.type === 'log' && /partition\(s\) created on the source after the copy: public\.ev_2025/.test(e.message),
    ),
    'the rerun leaves the late partition to the change stream',
  );
  const verdict = second.events.find((e) => e.type === 'verify-result');
  assert.ok(verdict?.type === 'verify-result' && verdict.ok, JSON.stringify(verdict));
  const hashes = await tableHashes(target);
  assert.deepEqual(hashes, await tableHashes(src.url(db)));
  const count = (url: string) =>
    withClient(url, async (c) => (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM ev_2025')).rows[0].n);
  // 41 inserted and 5 moved in, 1 deleted, by each writing step the partition saw
  assert.equal(await count(target), rootPublished ? 90 : 45, 'the new partition holds the rows written to it');
  assert.equal(await count(src.url(db)), await count(target));

  await finishTask(
    { task: name, stateDir: fx.stateDir, target, source },
    { log: () => {}, confirm: async () => false },
  );
  assert.deepEqual(await leftOnSource(src.url(db)), { slots: [], publications: [] });
}

test('incremental 15→15: a partition created and written on the source after the copy started reaches the target once it exists there', async () => {
  await scenario(fx.clusters[0], fx.clusters[1], 'parts15');
});

test('incremental 12→17: a partition created on the source after the copy started stops the run until the target has it, then is published', async () => {
  await scenario(fx.clusters[2], fx.clusters[3], 'parts12');
});

test('incremental 12→17: a partition written before it could be published stops the run until its rows are on the target and it is published', async () => {
  const [src, tgt] = [fx.clusters[2], fx.clusters[3]];
  const name = 'rows12';
  const db = `p_${name}`;
  const { source, target } = await captureAccounts(src, tgt, db, SCHEMA);
  const owner = asOwner(src, db);
  const task = (verify: 'none' | 'hash') => fx.task(name, source, target, { verify });
  // created and written in one transaction: rows the publication could not carry
  const first = await runUntilEnd(
    task('none'),
    () =>
      owner(
        `BEGIN; ${NEW_PARTITION}; INSERT INTO ev SELECT g, date '2025-03-01', 'early' FROM generate_series(5000, 5009) g; COMMIT`,
      ),
    { stopAfterMs: 60_000 },
  );
  assert.ok(first.error instanceof PgferryError, String(first.error));
  assert.match(first.error.message, /and the target has no table public\.ev_2025/);
  await withClient(target, (c) => c.query(TARGET_FIX));

  const second = await runUntilEnd(task('none'), async () => {}, { stopAfterMs: 60_000 });
  assert.ok(second.error instanceof PgferryError, String(second.error));
  assert.match(
    second.error.message,
    /partition public\.ev_2025 of public\.ev was created or attached on the source after the task started and already holds rows/,
  );
  const add = /ALTER PUBLICATION \S+ ADD TABLE public\.ev_2025;/.exec(second.error.hint ?? '');
  assert.ok(add, second.error.hint);

  // the fix the hint gives: with writes to it stopped, its rows onto the target, then it is published
  const rows = await withClient(source, (c) =>
    c.query<{ id: number; at: string; v: string }>('SELECT id, at::text, v FROM ev_2025'),
  );
  await withClient(target, (c) =>
    c.query('INSERT INTO ev_2025 SELECT * FROM unnest($1::int[], $2::date[], $3::text[])', [
      rows.rows.map((r) => r.id),
      rows.rows.map((r) => r.at),
      rows.rows.map((r) => r.v),
    ]),
  );
  await withClient(source, (c) => c.query(add[0]));
  const third = await runUntilEnd(task('hash'), async () => {
    await owner(WRITES(2000));
    await stopAt(source, target, name);
  });
  assert.equal(third.error, undefined, String(third.error));
  const verdict = third.events.find((e) => e.type === 'verify-result');
  assert.ok(verdict?.type === 'verify-result' && verdict.ok, JSON.stringify(verdict));
  assert.deepEqual(await tableHashes(target), await tableHashes(src.url(db)));
  await finishTask(
    { task: name, stateDir: fx.stateDir, target, source },
    { log: () => {}, confirm: async () => false },
  );
  assert.deepEqual(await leftOnSource(src.url(db)), { slots: [], publications: [] });
});

test('incremental 12→17: a partition made on the target first, then on the source while the run streams, is published without a stop', async () => {
  const [src, tgt] = [fx.clusters[2], fx.clusters[3]];
  const name = 'ahead12';
  const db = `p_${name}`;
  const { source, target } = await captureAccounts(src, tgt, db, SCHEMA);
  const owner = asOwner(src, db);
  const added = (e: TimedEvent) => e.type === 'log' && /added to the publication: public\.ev_2025/.test(e.message);
  const seen: TimedEvent[] = [];
  const run = runUntilEnd(
    fx.task(name, source, target, { verify: 'hash' }),
    async () => {
      await withClient(target, (c) => c.query(TARGET_FIX));
      await owner(NEW_PARTITION);
    },
    // the stream runs (its first lag sample) when the partition appears
    { seen, when: (e) => e.type === 'cdc-lag' },
  );
  // once the streaming run has published it, rows go to it
  const writes = (async () => {
    const until = Date.now() + 60_000;
    while (!seen.some(added) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await owner(WRITES(3000));
    await stopAt(source, target, name);
  })();
  const r = await run;
  await writes;
  assert.equal(r.error, undefined, String(r.error));
  assert.ok(r.events.some(added), 'the run published the partition itself');
  const verdict = r.events.find((e) => e.type === 'verify-result');
  assert.ok(verdict?.type === 'verify-result' && verdict.ok, JSON.stringify(verdict));
  assert.deepEqual(await tableHashes(target), await tableHashes(src.url(db)));
});

// Incremental migration, the cases the workload test does not reach (PostgreSQL 15, one shared server):
//  - a column added on the source stops the apply naming the table and the change; after the same
//    DDL on the target, the rerun continues exactly where the apply stopped;
//  - a row-filtered table carries only matching rows, and an UPDATE moving a row into or out of the
//    filter inserts or deletes it on the target (PostgreSQL 15 publishes it that way);
//  - the source lost during the incremental copy: the rerun drops the old slot, empties what was
//    copied and copies again in a new slot's snapshot — nothing lost or doubled, no slot leaked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { EventBus, type TimedEvent } from '../../src/core/events.js';
import { migrate } from '../../src/engine/runner.js';
import { finishTask } from '../../src/cli/commands/finish.js';
import { tableHashes, withClient } from '../helpers/compare.js';
import { cdcFixture, leftOnSource, stopAt } from './helpers.js';

const fx = cdcFixture({ prefix: 'cdc-coverage' });
const { stateDir, databases } = fx;

const q = (url: string, sql: string) => withClient(url, (c) => c.query(sql));

test('a column added on the source stops the apply naming the table; after the same DDL on the target the rerun continues exactly', async () => {
  const { source, target } = await databases(
    'ddl',
    `CREATE TABLE t (id int PRIMARY KEY, v text);
     INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 100) g;
     CREATE TABLE other (id int PRIMARY KEY);`,
  );
  const task = fx.task('ddl', source, target);
  const first = new EventBus();
  let changes: Promise<unknown> | undefined;
  first.on((e) => {
    // the stream runs (its first lag sample): the task knows t's columns as they were
    if (e.type === 'cdc-lag')
      changes ??= withClient(source, async (c) => {
        // one source transaction per statement (a multi-statement query would be one transaction)
        for (const sql of [
          `INSERT INTO t VALUES (101, 'before ddl')`,
          `UPDATE t SET v = 'upd' WHERE id = 1`,
          'INSERT INTO other VALUES (1)',
          'ALTER TABLE t ADD COLUMN extra int DEFAULT 7',
          `INSERT INTO t VALUES (102, 'after ddl', 42)`,
          'UPDATE t SET extra = 8 WHERE id = 2',
          'INSERT INTO other VALUES (2)',
        ])
          await c.query(sql);
      });
  });
  await assert.rejects(migrate(task, { events: first }), (e: Error) => {
    assert.match(e.message, /source table public\.t changed while its changes were streamed: column extra added/);
    assert.match(String((e as { hint?: string }).hint), /Make the same change on the target table/);
    return true;
  });
  await changes;
  // Nothing of the transaction that met the change nor after it (the batch it was in rolled back; the rerun applies it)
  const held = await withClient(target, async (c) => ({
    t: (await c.query(`SELECT id FROM t WHERE id = 102`)).rowCount,
    other: (await c.query('SELECT id FROM other WHERE id = 2')).rowCount,
  }));
  assert.deepEqual(held, { t: 0, other: 0 });
  await q(target, 'ALTER TABLE t ADD COLUMN extra int DEFAULT 7');
  // While no run streams: more changes, a second column, changes after it. The rerun reads the
  // source's catalog with both columns, while the first changes it streams predate the second.
  await withClient(source, async (c) => {
    await c.query(`INSERT INTO t VALUES (104, 'between runs', 1)`);
    await c.query('ALTER TABLE t ADD COLUMN note text');
    await c.query(`INSERT INTO t VALUES (105, 'between runs', 2, 'n')`);
  });
  await q(target, 'ALTER TABLE t ADD COLUMN note text');
  const second = new EventBus();
  let stop: Promise<unknown> | undefined;
  second.on((e) => {
    if (e.type === 'phase-start' && e.phase === 'cdc')
      stop ??= (async () => {
        await q(source, `INSERT INTO t VALUES (103, 'rerun', 9)`);
        await stopAt(source, target, 'ddl');
      })();
  });
  await migrate(task, { events: second });
  await stop;
  assert.deepEqual(await tableHashes(target), await tableHashes(source));
});

test('row filter: only matching rows; an UPDATE into the filter inserts the row, out of it deletes it', async () => {
  const { source, target } = await databases(
    'flt',
    `CREATE TABLE r (id int PRIMARY KEY, region text, n int);
     ALTER TABLE r REPLICA IDENTITY FULL;
     INSERT INTO r SELECT g, CASE WHEN g % 2 = 0 THEN 'eu' ELSE 'us' END, g FROM generate_series(1, 20) g;`,
  );
  const task = fx.task('flt', source, target, { tables: { 'public.r': { where: "region = 'eu'" } } });
  const events = new EventBus();
  let stop: Promise<unknown> | undefined;
  events.on((e) => {
    if (e.type === 'phase-start' && e.phase === 'cdc')
      stop ??= (async () => {
        await q(
          source,
          `INSERT INTO r VALUES (21, 'us', 21), (22, 'eu', 22);
           UPDATE r SET region = 'eu', n = 300 WHERE id = 3;   -- into the filter
           UPDATE r SET region = 'us' WHERE id = 4;            -- out of the filter
           UPDATE r SET n = n + 100 WHERE id IN (6, 7);        -- inside and outside, unmoved
           DELETE FROM r WHERE id IN (8, 9);
           UPDATE r SET region = 'eu' WHERE id = 21; UPDATE r SET region = 'us' WHERE id = 21;`,
        );
        await stopAt(source, target, 'flt');
      })();
  });
  await migrate(task, { events });
  await stop;
  const rows = (url: string, where: string) =>
    withClient(url, async (c) => (await c.query(`SELECT id, region, n FROM r ${where} ORDER BY id`)).rows);
  const want = await rows(source, "WHERE region = 'eu'");
  assert.deepEqual(await rows(target, ''), want);
  assert.ok(want.some((r) => r.id === 3 && r.n === 300) && !want.some((r) => r.id === 4));
});

/** One transaction after the other on the source until stopped, reconnecting when the server restarts. */
function writer(url: string): { stop: () => Promise<number> } {
  let running = true;
  let n = 0;
  const done = (async () => {
    while (running) {
      const c = new pg.Client({ connectionString: url });
      c.on('error', () => {});
      try {
        await c.connect();
        while (running) {
          n++;
          await c.query(`BEGIN; INSERT INTO big (v) VALUES ('w${n}'); UPDATE big SET v = v || '+' WHERE id = ${1 + ((n * 97) % 20_000)};
            DELETE FROM big WHERE id = ${20_000 + n - 3}; COMMIT`);
          await sleep(10);
        }
      } catch {
        await sleep(200);
      } finally {
        await c.end().catch(() => {});
      }
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
      return n;
    },
  };
}

test('source lost during the incremental copy: the rerun drops the old slot and copies again in a new one, nothing lost or doubled', async () => {
  const { source, target } = await databases(
    'lost',
    `CREATE TABLE big (id serial PRIMARY KEY, v text);
     INSERT INTO big (v) SELECT md5(g::text) FROM generate_series(1, 20000) g;
     CREATE TABLE small (id int PRIMARY KEY);
     INSERT INTO small SELECT generate_series(1, 10);`,
  );
  const task = fx.task('lost', source, target, { copy: { maxRowsPerSec: 4000, retryTimeSec: 5 } });
  const w = writer(fx.pg.url('lost_src'));
  try {
    const slotOf = async () =>
      withClient(fx.pg.url('lost_src'), async (c) => {
        const r = await c.query<{ s: string; x: string }>(
          `SELECT slot_name AS s, catalog_xmin::text AS x FROM pg_replication_slots WHERE database = 'lost_src'`,
        );
        return r.rows;
      });
    const first = new EventBus();
    let slotDuringCopy: { s: string; x: string }[] | undefined;
    let restarted = false;
    first.on((e: TimedEvent) => {
      if (e.type === 'unit-done' && !restarted) {
        restarted = true;
        void slotOf().then((s) => {
          slotDuringCopy = s;
          fx.pg.restart();
        });
      }
    });
    await assert.rejects(migrate(task, { events: first }));
    assert.ok(restarted, 'the source restarted during the copy');
    assert.equal(slotDuringCopy?.length, 1);
    const events = new EventBus();
    const warned: string[] = [];
    let stop: Promise<unknown> | undefined;
    let slotAfter: { s: string; x: string }[] | undefined;
    events.on((e) => {
      if (e.type === 'log' && e.level === 'warn') warned.push(e.message);
      if (e.type === 'phase-start' && e.phase === 'cdc')
        stop ??= (async () => {
          slotAfter = await slotOf();
          await w.stop();
          await stopAt(source, target, 'lost');
        })();
    });
    await migrate({ ...task, copy: { ...task.copy, maxRowsPerSec: null } }, { events });
    await stop;
    assert.ok(
      warned.some((m) =>
        /incremental copy cut off earlier: \d+ unit\(s\) discarded, copying again in a new slot/.test(m),
      ),
      warned.join('\n'),
    );
    // one slot, created anew (a later catalog_xmin than the one the lost run made)
    assert.equal(slotAfter?.length, 1);
    assert.notEqual(slotAfter![0].x, slotDuringCopy![0].x);
    assert.deepEqual(await tableHashes(target), await tableHashes(source));
    await finishTask({ task: 'lost', stateDir, target, source }, { log: () => {}, confirm: async () => false });
    assert.deepEqual(await leftOnSource(source), { slots: [], publications: [] });
  } finally {
    await w.stop();
  }
});

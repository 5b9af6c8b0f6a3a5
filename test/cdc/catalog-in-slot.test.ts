// An incremental task reads its catalog in the replication slot's snapshot, the one the copy reads:
// a concurrent writer keeps creating filled tables, adding a column to the table it created before
// and registering each in a selected table, while the run starts. It stops for good once it sees a
// replication slot (a transaction that sees none commits before the slot's consistent point, so it
// is in the slot's snapshot). Every table and column the copy's snapshot holds must be on the target
// with its rows: a catalog read before the slot misses those committed in between while the copy
// (and the registry's rows) has them. Source: a REPLICATION account owning its database; target:
// the owner of the target database; neither a superuser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { EventBus } from '../../src/core/events.js';
import { migrate } from '../../src/engine/runner.js';
import { tableHashes, withClient } from '../helpers/compare.js';
import { cdcFixture, stopAt } from './helpers.js';

const fx = cdcFixture({ prefix: 'cdc-slotcat', roles: { src: 'slotcat_src', tgt: 'slotcat_tgt' } });

/** Writes until it sees a replication slot (or is stopped); returns the number of committed rounds. */
function ddlWriter(url: string): { stop: () => Promise<number>; rounds: (n: number) => Promise<void> } {
  let running = true;
  let committed = 0;
  const done = withClient(url, async (c) => {
    for (let n = 1; running; n++) {
      await c.query('BEGIN');
      await c.query(`CREATE TABLE late_${n} (id int PRIMARY KEY, v text)`);
      await c.query(`INSERT INTO late_${n} SELECT g, 'v${n}' FROM generate_series(1, 20) g`);
      if (n > 1) await c.query(`ALTER TABLE late_${n - 1} ADD COLUMN extra int NOT NULL DEFAULT ${n}`);
      await c.query('INSERT INTO registry VALUES ($1)', [n]);
      await c.query('UPDATE base SET n = n + 1 WHERE id % 10 = $1', [n % 10]);
      // Checked after the writes (the transaction has its id): no slot seen means the slot's snapshot waits for this one.
      const slots = await c.query(`SELECT 1 FROM pg_catalog.pg_replication_slots WHERE slot_name LIKE 'pgferry%'`);
      if (slots.rowCount) {
        await c.query('ROLLBACK');
        return;
      }
      await c.query('COMMIT');
      committed = n;
      await sleep(40);
    }
  });
  return {
    stop: async () => {
      running = false;
      await done;
      return committed;
    },
    /** Resolves once `n` rounds are committed. */
    rounds: async (n: number) => {
      while (committed < n) await Promise.race([sleep(10), done]);
    },
  };
}

async function columns(url: string): Promise<string[]> {
  return withClient(url, async (c) => {
    const r = await c.query<{ col: string }>(
      `SELECT table_name || '.' || column_name AS col FROM information_schema.columns
        WHERE table_schema = 'public' ORDER BY 1`,
    );
    return r.rows.map((x) => x.col);
  });
}

test('incremental: DDL and rows committed while the run starts are in its catalog exactly when in its copy', async () => {
  const { source, target } = await fx.databases(
    'slotcat',
    `CREATE TABLE registry (n int PRIMARY KEY);
     CREATE TABLE base (id int PRIMARY KEY, n int);
     INSERT INTO base SELECT g, 0 FROM generate_series(1, 100) g;`,
  );
  const w = ddlWriter(source);
  await w.rounds(2); // the run starts while the writer is well under way
  const events = new EventBus();
  let stopped: Promise<unknown> | undefined;
  let rounds = 0;
  let remade = 0;
  events.on((e) => {
    if (e.type === 'log' && e.message.includes('publication and slot made again')) remade++;
    if (e.type === 'phase-start' && e.phase === 'cdc' && !stopped)
      stopped = (async () => {
        rounds = await w.stop();
        await stopAt(source, target, 'slotcat');
      })();
  });
  const task = fx.task('slotcat', source, target, { verify: 'none', jobs: 2 });
  try {
    await migrate(task, { events });
  } finally {
    await w.stop();
  }
  await stopped;
  console.log(`writer rounds: ${rounds}; publication and slot made again: ${remade} time(s)`);
  assert.ok(rounds >= 3, `the writer committed ${rounds} round(s) while the run started`);
  assert.deepEqual(await columns(target), await columns(source), 'every table and column of the snapshot');
  assert.deepEqual(await tableHashes(target), await tableHashes(source), 'rows as of the snapshot, then the stream');
  const registered = await withClient(
    target,
    async (c) => (await c.query('SELECT count(*)::int AS n FROM registry')).rows[0].n,
  );
  assert.equal(registered, rounds);
});

async function leftOnSource(url: string): Promise<{ slots: number; publications: number }> {
  return withClient(url, async (c) => ({
    slots: (await c.query('SELECT 1 FROM pg_replication_slots WHERE database = current_database()')).rowCount ?? 0,
    publications: (await c.query('SELECT 1 FROM pg_publication')).rowCount ?? 0,
  }));
}

test('incremental: a run the precheck stops leaves no slot and no publication on the source', async () => {
  const { source, target } = await fx.databases(
    'slotpre',
    'CREATE TABLE taken (id int PRIMARY KEY); CREATE TABLE keyless (v int);',
  );
  await withClient(target, (c) => c.query('CREATE TABLE taken (id int PRIMARY KEY)'));
  const task = (name: string) => fx.task(name, source, target, { verify: 'none' });
  /** The run's error: the precheck's blocking items. */
  const failedItems = async (name: string): Promise<string> => {
    const e = await migrate(task(name), { events: new EventBus() }).then(
      () => assert.fail('the precheck let the run through'),
      (err: unknown) => err,
    );
    assert.match(String(e), /precheck failed/);
    return String(e);
  };
  // A table without replica identity: no publication is made (it would make the source refuse its updates).
  assert.match(await failedItems('slotpre1'), /incremental\.replica-identity/);
  assert.deepEqual(await leftOnSource(source), { slots: 0, publications: 0 });
  // The slot and the publication exist when the precheck finds the target table taken: both are dropped.
  await withClient(source, (c) => c.query('ALTER TABLE keyless REPLICA IDENTITY FULL'));
  const failed = await failedItems('slotpre2');
  assert.doesNotMatch(failed, /incremental\./);
  assert.match(failed, /taken/);
  assert.deepEqual(await leftOnSource(source), { slots: 0, publications: 0 });
});

test('incremental: the precheck does not count the run’s own slot and WAL sender as taken', async () => {
  const { source, target } = await fx.databases(
    'slotcap',
    'CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (2);',
  );
  // max_replication_slots = 10: nine taken by others leave exactly the one the task needs.
  const others = await withClient(fx.pg.url(), async (c) => {
    const used = (await c.query('SELECT count(*)::int AS n FROM pg_replication_slots')).rows[0].n as number;
    const names = Array.from({ length: 9 - used }, (_, i) => `other_${i}`);
    for (const n of names) await c.query('SELECT pg_create_physical_replication_slot($1)', [n]);
    return names;
  });
  try {
    const events = new EventBus();
    events.on((e) => {
      if (e.type === 'phase-start' && e.phase === 'cdc') void stopAt(source, target, 'slotcap');
    });
    const task = fx.task('slotcap', source, target, { verify: 'count' });
    const r = await migrate(task, { events });
    const capacity = r.precheck?.items.find((i) => i.id === 'incremental.capacity');
    assert.equal(capacity?.result, 'passed', capacity?.message);
    assert.ok(r.verify?.ok);
  } finally {
    await withClient(fx.pg.url(), async (c) => {
      for (const n of others) await c.query('SELECT pg_drop_replication_slot($1)', [n]);
    });
  }
});

// The PostgreSQL task store through the shared TaskStore suite, on a real server, as an account that
// owns its database and is no superuser; each store instance has its own session, as separate hosts do.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { PgferryError } from '../../src/core/errors.js';
import { PgTaskStore } from '../../src/state/pg-store.js';
import { withClient } from '../helpers/compare.js';
import { taskStoreSuite } from './store-suite.js';
import { readStoreStatus } from '../../src/stages/report/store-status.js';
import { renderStatus } from '../../src/stages/report/status.js';

let srv: Cluster;
before(async () => {
  srv = await startCluster({ version: 15, name: 'pgferry-pgstore' });
  await withClient(srv.url(), async (c) => {
    await c.query(`CREATE ROLE keeper LOGIN PASSWORD 'store-pw-1'`);
    await c.query(`CREATE DATABASE tasks OWNER keeper`);
  });
  await withClient(srv.url('tasks', 'keeper'), (c) => c.query(`CREATE SCHEMA mine; CREATE TABLE mine.t (x int)`));
});
after(async () => {
  await srv?.stop();
});

taskStoreSuite('PostgreSQL', async () => new PgTaskStore(srv.url('tasks', 'keeper'), 'ferry tasks'));

test('the store schema is versioned and marked; two stores creating it at once agree', async () => {
  const stores = [1, 2, 3].map(() => new PgTaskStore(srv.url('tasks', 'keeper'), 'fresh_store'));
  await Promise.all(stores.map((s, i) => s.create(`t${i}`, {})));
  assert.equal((await stores[0].list()).length, 3);
  for (const s of stores) await s.close();
  const v = await withClient(srv.url('tasks', 'keeper'), (c) =>
    c.query(`SELECT version FROM fresh_store.store_format`),
  );
  assert.deepEqual(v.rows, [{ version: 1 }, { version: 2 }]);
});

test('a schema that is not a task store is refused, untouched', async () => {
  const s = new PgTaskStore(srv.url('tasks', 'keeper'), 'mine');
  await assert.rejects(
    s.list(),
    (e: unknown) =>
      e instanceof PgferryError &&
      e.kind === 'state' &&
      /schema mine exists and is not a pgferry task store/.test(e.message) &&
      /another schema/.test(e.hint ?? ''),
  );
  await s.close();
  const r = await withClient(srv.url('tasks', 'keeper'), (c) =>
    c.query(`SELECT relname FROM pg_class WHERE relnamespace = $1::regnamespace`, ['mine']),
  );
  assert.deepEqual(r.rows, [{ relname: 't' }]);
});

test('a password-bearing connection string never reaches an error message', async () => {
  const s = new PgTaskStore(`postgresql://keeper:wrong-secret-9@127.0.0.1:${srv.port}/nosuchdb?sslmode=disable`);
  await assert.rejects(s.list(), (e: unknown) => e instanceof Error && !e.message.includes('wrong-secret-9'));
  await s.close();
});

test('an operation after a failed open (database not there yet) opens the store again', async () => {
  const s = new PgTaskStore(srv.url('later', 'keeper'));
  await assert.rejects(s.list(), /database "later" does not exist/);
  await withClient(srv.url(), (c) => c.query(`CREATE DATABASE later OWNER keeper`));
  assert.deepEqual(await s.list(), []);
  await s.close();
});

test('a store whose session ends (terminated backend, restarted server) opens a new one for the next operation', async () => {
  const s = new PgTaskStore(srv.url('tasks', 'keeper'), 'reopened');
  await s.create('r1', {});
  await withClient(srv.url('tasks'), (c) =>
    c.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE '%task-store%'`),
  );
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await s.get('r1'))?.status, 'created');
  await s.close();
});

test('a lease whose holder is gone (its session on the store ended, as with a killed process) is void at once', async () => {
  const [a, b] = [1, 2].map(() => new PgTaskStore(srv.url('tasks', 'keeper'), 'gone_holder'));
  try {
    await a.create('g1', {});
    const held = await a.lease('g1', 'host-a', 60_000);
    assert.ok(held);
    assert.equal((await b.currentLease('g1'))?.holder, 'host-a', 'held while its holder is connected');
    assert.equal(await b.lease('g1', 'host-b', 60_000), undefined);
    // the holder's session ends without a release (a kill -9 of its process, a crash)
    await withClient(srv.url('tasks'), (c) =>
      c.query('SELECT pg_terminate_backend(session_pid) FROM gone_holder.lease WHERE task_id = $1', ['g1']),
    );
    let gone = false;
    for (let i = 0; i < 50 && !gone; i++) {
      gone = (await b.currentLease('g1')) === undefined;
      if (!gone) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(gone, 'nobody holds the lease once its holder is gone, 60 s before it expires');
    const taken = await b.lease('g1', 'host-b', 60_000);
    assert.ok(taken && taken.holder === 'host-b', 'the next claimant gets it at once');
    // the old holder's renewal (from a new session) finds its lease lost
    await assert.rejects(
      a.renew(held, 60_000),
      (e: unknown) => e instanceof PgferryError && /was lost/.test(e.message),
    );
  } finally {
    await a.close();
    await b.close();
  }
});

test('a holder connected but silent for two thirds of its lease is called unreachable until the lease expires', async () => {
  const [a, b] = [1, 2].map(() => new PgTaskStore(srv.url('tasks', 'keeper'), 'silent_holder'));
  try {
    await a.create('s1', {});
    const held = await a.lease('s1', 'host-a', 3_000);
    assert.ok(held);
    assert.equal((await b.currentLease('s1'))?.unreachable, undefined, 'renewed just now');
    await new Promise((r) => setTimeout(r, 2_200));
    const silent = await b.currentLease('s1');
    assert.equal(silent?.holder, 'host-a', 'still held: its holder may yet renew');
    assert.equal(silent?.unreachable, true);
    assert.equal(await b.lease('s1', 'host-b', 3_000), undefined, 'not claimable before it expires');
    // `pgferry status --store` says so too
    const status = await readStoreStatus(b, 's1', { checkpoints: false, where: 'the store' });
    assert.match(status.holderNote ?? '', /^owner unreachable, lease expires in \d s$/);
    assert.match(renderStatus(status), /RUNNING \(host-a; owner unreachable, lease expires in \d s\)/);
    // a renewal makes it reachable again
    await a.renew(held, 3_000);
    assert.equal((await b.currentLease('s1'))?.unreachable, undefined);
  } finally {
    await a.close();
    await b.close();
  }
});

// The PostgreSQL task store through the shared TaskStore suite, on a real server, as an account that
// owns its database and is no superuser; each store instance has its own session, as separate hosts do.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { PgferryError } from '../../src/core/errors.js';
import { PgTaskStore } from '../../src/state/pg-store.js';
import { withClient } from '../helpers/compare.js';
import { taskStoreSuite } from './store-suite.js';

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
  assert.deepEqual(v.rows, [{ version: 1 }]);
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

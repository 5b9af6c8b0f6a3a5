// The incremental.* precheck items, each made to fail (or warn) with the fix it prints: a PostgreSQL 12
// source with wal_level=minimal (WAL level, slots and senders, row filters) and a logical PostgreSQL 15
// one (replication attribute, publication privileges, replica identity, large objects, warnings).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { validateTask } from '../../src/core/config.js';
import { runPrecheck, type CheckItem, type PrecheckReport } from '../../src/stages/precheck/index.js';
import { withClient } from '../helpers/compare.js';
import { logicalCluster } from './helpers.js';

let pg12: Cluster;
let pg15: Cluster;

before(async () => {
  [pg12, pg15] = await Promise.all([
    startCluster({ version: 12, settings: { wal_level: 'minimal', max_wal_senders: 0, max_replication_slots: 0 } }),
    logicalCluster(),
  ]);
  await withClient(pg15.url(), async (c) => {
    await c.query('CREATE ROLE owner_src LOGIN REPLICATION');
    await c.query('CREATE ROLE plain_src LOGIN');
    await c.query('CREATE ROLE ferry_tgt LOGIN');
    await c.query('CREATE DATABASE pc OWNER owner_src');
    await c.query('CREATE DATABASE tgt OWNER ferry_tgt');
  });
  await withClient(pg15.url('pc', 'owner_src'), (c) =>
    c.query(`CREATE TABLE keyed (id int PRIMARY KEY, v text);
      CREATE TABLE nokey (v text);
      CREATE TABLE full_ok (v text); ALTER TABLE full_ok REPLICA IDENTITY FULL;
      GRANT SELECT ON keyed, nokey, full_ok TO plain_src;
      SELECT lo_create(0);`),
  );
  await withClient(pg12.url(), (c) => c.query('CREATE TABLE t (id int PRIMARY KEY, v text)'));
});

after(async () => {
  await Promise.all([pg12?.stop(), pg15?.stop()]);
});

const item = (r: PrecheckReport, id: string): CheckItem => {
  const i = r.items.find((x) => x.id === id);
  assert.ok(i, `item ${id} present`);
  return i;
};

const run = (source: string, extra: Record<string, unknown> = {}) =>
  runPrecheck(
    validateTask({
      source,
      target: pg15.url('tgt', 'ferry_tgt'),
      incremental: true,
      noOwner: true,
      noAcl: true,
      ...extra,
    }),
  );

test('incremental precheck on PostgreSQL 12 with wal_level=minimal: WAL level, slots and senders, row filters fail', async () => {
  const r = await run(pg12.url(), { tables: { 'public.t': { where: 'id > 0' } } });
  assert.equal(r.ok, false);
  assert.equal(item(r, 'incremental.wal-level').result, 'failed');
  assert.match(item(r, 'incremental.wal-level').hint ?? '', /ALTER SYSTEM SET wal_level = logical/);
  assert.equal(item(r, 'incremental.capacity').result, 'failed');
  assert.match(item(r, 'incremental.capacity').objects.join(' '), /max_replication_slots = 0/);
  assert.equal(item(r, 'incremental.row-filters').result, 'failed');
  assert.deepEqual(item(r, 'incremental.row-filters').objects, ['public.t']);
  assert.equal(item(r, 'incremental.wal-retention').result, 'warning');
  // a superuser source: replication allowed
  assert.equal(item(r, 'incremental.replication-role').result, 'passed');
});

test('incremental precheck on PostgreSQL 15: replication attribute, publication privileges, replica identity, large objects', async () => {
  const plain = await run(pg15.url('pc', 'plain_src'), { includeTables: ['public.keyed'] });
  assert.equal(item(plain, 'incremental.replication-role').result, 'failed');
  assert.match(item(plain, 'incremental.replication-role').hint ?? '', /ALTER ROLE plain_src REPLICATION/);
  assert.equal(item(plain, 'incremental.publication').result, 'failed');
  assert.deepEqual(item(plain, 'incremental.publication').objects, ['public.keyed (owner owner_src)']);
  assert.match(item(plain, 'incremental.publication').hint ?? '', /GRANT CREATE ON DATABASE pc TO plain_src/);

  const filtered = await run(pg15.url('pc', 'owner_src'), {
    includeTables: ['public.keyed', 'public.full_ok'],
    tables: { 'public.keyed': { where: "v <> 'x'" }, 'public.full_ok': { where: "v <> 'x'" } },
  });
  const rf = item(filtered, 'incremental.row-filters');
  assert.equal(rf.result, 'failed', 'a filter over a table without REPLICA IDENTITY FULL would break its UPDATEs');
  assert.deepEqual(rf.objects, ['public.keyed']);
  assert.match(rf.hint ?? '', /ALTER TABLE public\.keyed REPLICA IDENTITY FULL;/);

  const whole = await run(pg15.url('pc', 'owner_src'));
  assert.equal(item(whole, 'incremental.wal-level').result, 'passed');
  assert.equal(item(whole, 'incremental.capacity').result, 'passed');
  assert.equal(item(whole, 'incremental.replication-role').result, 'passed');
  assert.equal(item(whole, 'incremental.publication').result, 'passed');
  const ident = item(whole, 'incremental.replica-identity');
  assert.equal(ident.result, 'failed');
  assert.deepEqual(ident.objects, ['public.nokey']);
  assert.match(ident.hint ?? '', /ALTER TABLE public\.nokey REPLICA IDENTITY FULL;/);
  assert.equal(item(whole, 'incremental.large-objects').result, 'failed');
  assert.equal(item(whole, 'incremental.ddl').result, 'warning');
  assert.equal(item(whole, 'incremental.apply-role').result, 'warning');
  assert.match(
    item(whole, 'incremental.apply-role').hint ?? '',
    /GRANT SET ON PARAMETER session_replication_role TO ferry_tgt/,
  );

  const plainTask = await runPrecheck(
    validateTask({ source: pg15.url('pc', 'owner_src'), target: pg15.url('tgt', 'ferry_tgt') }),
  );
  const fullOnly = item(plainTask, 'incremental.wal-level');
  assert.deepEqual([fullOnly.result, fullOnly.message], ['passed', 'not an incremental task: nothing to check']);
});

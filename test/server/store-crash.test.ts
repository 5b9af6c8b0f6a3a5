// pgferry serve with its tasks in a PostgreSQL task store, killed (SIGKILL) while a task copies: its
// lease on the task stays in the store until it expires, but its session on the store ended with it,
// so the lease is void at once: the status never reads "running" for the dead server, and a new
// server started on the same store and data dir resumes the task at once (not after the lease's 30 s),
// to done, verified and equal to its source. A server that stops answering without dying (SIGSTOP:
// alive, connected, silent) keeps its lease until it expires; the next server shows "owner
// unreachable, lease expires in N s" meanwhile, and a stop given to it then is taken at once (202):
// the waiting attempt is cancelled, and the task shows stopped once the lease has expired, never
// resumed, not even by a later server. Real processes throughout.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Cluster, startCluster } from '../../src/dev/embedded/cluster.js';
import { sampleDatabaseSql } from '../../src/dev/demo/sample.js';
import { tableHashes, withClient } from '../helpers/compare.js';
import { passwordHba, sourceAccount, targetAccount } from '../embed/accounts.js';
import { type Served, startServe } from '../console/serve.js';
import { followEvents, waitForTask } from './helpers.js';

const PW = { src: 'Crash-src-pw-1187', tgt: 'Crash-tgt-pw-9920', store: 'Crash-store-pw-3321' };
let pg: Cluster;
const servers: Served[] = [];
const dataDir = mkdtempSync(join(tmpdir(), 'pgferry-store-crash-'));
const stopDir = mkdtempSync(join(tmpdir(), 'pgferry-store-crash-stop-'));

before(async () => {
  pg = await startCluster({
    version: 15,
    name: 'pgferry-store-crash',
    hba: passwordHba(['sc_src', 'sc_tgt', 'ss_src', 'ss_tgt', 'sc_store']),
  });
  await withClient(pg.url(), (c) => c.query('CREATE DATABASE shop'));
  // the task store's account owns its databases and is no superuser
  await withClient(pg.url(), (c) => c.query(`CREATE ROLE sc_store LOGIN PASSWORD '${PW.store}'`));
  await withClient(pg.url(), (c) => c.query('CREATE DATABASE ferry_store OWNER sc_store'));
  await withClient(pg.url(), (c) => c.query('CREATE DATABASE ferry_store_stop OWNER sc_store'));
  await withClient(pg.url('shop'), (c) => c.query(sampleDatabaseSql(0.1)));
});

after(async () => {
  for (const s of servers) await s.kill();
  await pg?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(stopDir, { recursive: true, force: true });
});

const serve = async (dir = dataDir, storeDb = 'ferry_store') => {
  const s = await startServe(dir, 120_000, {
    args: ['--store', pg.url(storeDb, 'sc_store', PW.store), '--retry-base', '1'],
  });
  servers.push(s);
  return s;
};

test('a server killed mid-copy: its lease is void at once, the next server resumes the task to done without waiting', async () => {
  const source = await sourceAccount(pg, 'shop', 'sc_src', PW.src, ['shop', 'public']);
  const target = await targetAccount(pg, 'shop_copy', 'sc_tgt', PW.tgt);
  const first = await serve();
  const task = { name: 'crash-me', source, target, noOwner: true, noAcl: true, jobs: 2, verify: 'hash' };
  // throttled so that it is still copying when the server dies (about 7,000 rows at 1,000 rows/s)
  const created = await first.api.call('POST', '/api/tasks', { ...task, copy: { maxRowsPerSec: 1000 } });
  assert.equal(created.status, 201, created.text);
  assert.equal((await first.api.call('POST', '/api/tasks/crash-me/start')).status, 202);
  await followEvents(first, 'crash-me', { until: (e) => e.event === 'unit-done' });
  await first.kill();
  const lease = await withClient(pg.url('ferry_store'), (c) =>
    c.query(`SELECT holder, expires_at FROM pgferry_store.lease WHERE task_id = $1`, ['crash-me']),
  );
  const dead = lease.rows[0] as { holder: string; expires_at: Date };
  assert.match(dead.holder, new RegExp(`pid ${first.pid} `));
  assert.ok(dead.expires_at.getTime() > Date.now(), 'the dead run’s lease has not expired yet');

  const second = await serve();
  // taken up while the dead lease would still run: never shown as run by another process
  const seen = new Set<string>();
  const resumed = await waitForTask(
    second.api,
    'crash-me',
    (t) => {
      seen.add(`${t.status}/${t.runner}`);
      return t.runner === 'server' || t.status === 'done';
    },
    60_000,
  );
  assert.ok(Date.now() < dead.expires_at.getTime(), `resumed before the dead lease expired (${resumed.status})`);
  assert.ok(![...seen].some((x) => x.endsWith('/other')), [...seen].join(', '));
  const done = await waitForTask(
    second.api,
    'crash-me',
    (t) => t.status === 'done' || t.status === 'failed' || t.status === 'mismatch',
    180_000,
  );
  assert.equal(done.status, 'done', JSON.stringify(done.error));
  assert.ok(done.attempts >= 2, `attempts ${done.attempts}`);
  const events = await followEvents(second, 'crash-me', {
    until: (e) => e.event === 'task-end' && e.data.ok === true,
  });
  assert.ok(!events.events.some((e) => e.event === 'retry' && /held by/.test(e.data.what)), 'no wait for a lease');
  const report = await second.api.call('GET', '/api/tasks/crash-me/report');
  assert.equal(report.body.verification.ok, true, report.text);
  assert.deepEqual(await tableHashes(pg.url('shop_copy')), await tableHashes(pg.url('shop')));
  for (const pw of Object.values(PW)) {
    assert.ok(!second.output().includes(pw) && !first.output().includes(pw), 'a password in the server output');
  }
});

test('a server that stops answering (SIGSTOP) keeps its lease: the next shows the owner unreachable, a stop is taken at once, never resumed', async () => {
  const source = await sourceAccount(pg, 'shop', 'ss_src', PW.src, ['shop', 'public']);
  const target = await targetAccount(pg, 'shop_stop', 'ss_tgt', PW.tgt);
  const first = await serve(stopDir, 'ferry_store_stop');
  const task = { name: 'stop-me', source, target, noOwner: true, noAcl: true, jobs: 2 };
  const created = await first.api.call('POST', '/api/tasks', { ...task, copy: { maxRowsPerSec: 500 } });
  assert.equal(created.status, 201, created.text);
  assert.equal((await first.api.call('POST', '/api/tasks/stop-me/start')).status, 202);
  await followEvents(first, 'stop-me', { until: (e) => e.event === 'unit-done' });
  // alive and connected to the store, but silent: its lease is neither renewed nor void
  process.kill(first.pid, 'SIGSTOP');
  const leaseOf = async () =>
    (
      await withClient(pg.url('ferry_store_stop'), (c) =>
        c.query(`SELECT holder, expires_at FROM pgferry_store.lease WHERE task_id = $1`, ['stop-me']),
      )
    ).rows[0] as { holder: string; expires_at: Date };
  const dead = await leaseOf();
  assert.match(dead.holder, new RegExp(`pid ${first.pid} `));

  const second = await serve(stopDir, 'ferry_store_stop');
  await waitForTask(second.api, 'stop-me', (t) => t.runner === 'other');
  // two thirds of the lease's time without a renewal: the owner is called unreachable
  const waiting = await waitForTask(second.api, 'stop-me', (t) => t.runnerNote !== undefined, 40_000);
  assert.match(waiting.runnerNote, /^owner unreachable, lease expires in \d+ s$/);
  assert.equal(waiting.runner, 'other');
  assert.ok(Date.now() < dead.expires_at.getTime(), 'the stop is tried while the silent run’s lease still runs');
  const stop = await second.api.call('POST', '/api/tasks/stop-me/stop');
  assert.equal(stop.status, 202, stop.text);
  const recordAtStop = await second.api.call('GET', '/api/tasks/stop-me');
  // pressed again while the dead lease still runs: taken too, not refused as a run elsewhere
  const again = await second.api.call('POST', '/api/tasks/stop-me/stop');
  assert.equal(again.status, 202, again.text);

  // past the lease's expiry and the time the cancelled attempt was due: nobody took the task up
  await new Promise((r) => setTimeout(r, Math.max(0, dead.expires_at.getTime() - Date.now()) + 4_000));
  const after = await waitForTask(second.api, 'stop-me', (t) => t.runner === 'none', 10_000);
  assert.equal(after.status, 'stopped', JSON.stringify(after));
  assert.equal(after.attempts, waiting.attempts, 'no attempt was made after the stop');
  assert.equal(after.updatedAt, recordAtStop.body.updatedAt, 'the task record was not touched by a new run');
  assert.equal((await leaseOf()).holder, dead.holder, 'no server took the lease');

  // a later server does not resume it either
  await second.stop();
  const third = await serve(stopDir, 'ferry_store_stop');
  await new Promise((r) => setTimeout(r, 1_500));
  const later = await waitForTask(third.api, 'stop-me', () => true);
  assert.equal(later.status, 'stopped', JSON.stringify(later));
  assert.equal(later.runner, 'none');
  assert.equal((await leaseOf()).holder, dead.holder, 'no server took the lease');
  await third.stop();
  await first.kill();
});

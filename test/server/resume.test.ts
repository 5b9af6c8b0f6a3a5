// Automatic resume: the target server of a task run by pgferry serve goes down mid-copy for longer
// than the run's own retries last; the service runs the task again after a backoff (attempts and
// the next attempt shown in the summary and as a `retry` event) and it ends equal to its source.
// Then the same with the source server restarted mid-copy (the run's snapshot goes with it); and a
// task whose lock on the target is held by a session that outlived its run (as a crashed host's
// does until the target notices) is retried until the lock is free, not failed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { sampleDatabaseSql } from '../../src/dev/demo/sample.js';
import { startServer, type RunningServer } from '../../src/server/app.js';
import { tableHashes, withClient } from '../helpers/compare.js';
import { passwordHba, sourceAccount, targetAccount } from '../embed/accounts.js';
import { apiClient, bounce, followEvents, metric, parseMetrics, waitForTask } from './helpers.js';

const PW = { src: 'Rsrc-pw-2231-z', tgt: 'Rtgt-pw-6617-x', tgt2: 'Rtgt2-pw-4471-q', tgt3: 'Rtgt3-pw-8805-k' };
let src: Cluster;
let tgt: Cluster;
let server: RunningServer;
let source: string;
const dataDir = mkdtempSync(join(tmpdir(), 'pgferry-serve-resume-'));

before(async () => {
  [src, tgt] = await Promise.all([
    startCluster({ version: 15, name: 'pgferry-serve-src', hba: passwordHba(['rs_src']) }),
    startCluster({ version: 17, name: 'pgferry-serve-tgt', hba: passwordHba(['rs_tgt', 'rs_tgt2', 'rs_tgt3']) }),
  ]);
  await withClient(src.url(), (c) => c.query('CREATE DATABASE shop'));
  await withClient(src.url('shop'), (c) => c.query(sampleDatabaseSql(0.1)));
  source = await sourceAccount(src, 'shop', 'rs_src', PW.src, ['shop', 'public']);
  server = await startServer({
    port: 0,
    dataDir,
    backoff: { baseMs: 500, maxMs: 2000, maxAttempts: 12 },
    log: () => {},
  });
});

after(async () => {
  await server?.close();
  await Promise.all([src?.stop(), tgt?.stop()]);
  rmSync(dataDir, { recursive: true, force: true });
});

/**
 * Task `name` copying into database `db` (account `role`) while `restarted` goes down for 4 s after
 * the first unit: the service resumes it (attempts ≥ 2) to done, target equal to source by hash and
 * verified.
 */
async function restartedMidCopy(name: string, db: string, role: string, pw: string, restarted: Cluster) {
  const target = await targetAccount(tgt, db, role, pw);
  const api = apiClient(server);
  const task = {
    name,
    source,
    target,
    noOwner: true,
    noAcl: true,
    jobs: 2,
    verify: 'hash',
    // the run's own retries give up after a second: the server stays down longer than that
    copy: { maxRowsPerSec: 1500, retryTimeSec: 1 },
  };
  assert.equal((await api.call('POST', '/api/tasks', task)).status, 201);
  assert.equal((await api.call('POST', `/api/tasks/${name}/start`)).status, 202);
  await followEvents(server, name, { until: (e) => e.event === 'unit-done' });
  await bounce(restarted, 4000);
  const retrying = await waitForTask(api, name, (t) => t.attempts >= 2 || t.status === 'retrying', 120_000);
  assert.notEqual(retrying.status, 'failed', JSON.stringify(retrying.error));
  const done = await waitForTask(api, name, (t) => t.status === 'done' || t.status === 'failed');
  assert.equal(done.status, 'done', JSON.stringify(done.error));
  assert.ok(done.attempts >= 2, `attempts ${done.attempts}`);
  assert.deepEqual(await tableHashes(tgt.url(db)), await tableHashes(src.url('shop')));
  const report = await api.call('GET', `/api/tasks/${name}/report`);
  assert.equal(report.body.verification.ok, true);
  return api;
}

test('a task whose target is restarted mid-copy is resumed by the service and ends identical', async () => {
  const api = await restartedMidCopy('resume-me', 'shop', 'rs_tgt', PW.tgt, tgt);
  const all = await followEvents(server, 'resume-me', {
    until: (e, seen) => e.event === 'task-end' && e.data.ok === true && seen.some((x) => x.event === 'retry'),
  });
  const retries = all.events.filter((e) => e.event === 'retry' && /^task resume-me/.test(e.data.what));
  assert.ok(retries.length >= 1, 'the service announced its retry');
  assert.ok(retries[0].data.delayMs >= 500);
  for (const pw of Object.values(PW)) assert.ok(!all.raw.includes(pw));
  // the metrics count the service's own resumes apart from the run's retries
  const m = parseMetrics((await api.call('GET', '/metrics')).text);
  assert.ok(metric(m, 'pgferry_resume_attempts_total', { task: 'resume-me', reason: 'retry' }) >= 1);
  assert.equal(metric(m, 'pgferry_resume_attempts_total', { task: 'resume-me', reason: 'restart' }), 0);
  assert.equal(metric(m, 'pgferry_tasks', { state: 'done' }), 1);
});

test('a task whose source is restarted mid-copy is resumed by the service and ends identical', async () => {
  await restartedMidCopy('source-bounce', 'shop_b', 'rs_tgt2', PW.tgt2, src);
  const all = await followEvents(server, 'source-bounce', {
    until: (e) => e.event === 'task-end' && e.data.ok === true,
  });
  for (const pw of Object.values(PW)) assert.ok(!all.raw.includes(pw));
});

test('a task whose lock on the target is held by a leftover session is retried until the lock is free', async () => {
  const target = await targetAccount(tgt, 'shop_c', 'rs_tgt3', PW.tgt3);
  const api = apiClient(server);
  const task = { name: 'lock-held', source, target, noOwner: true, noAcl: true, jobs: 2, verify: 'count' };
  assert.equal((await api.call('POST', '/api/tasks', task)).status, 201);
  // a session of a run that is gone holds the task's advisory lock on the target
  const leftover = new pg.Client({ connectionString: tgt.url('shop_c') });
  await leftover.connect();
  try {
    await leftover.query(`SELECT pg_advisory_lock(hashtext('pgferry task'), hashtext($1))`, ['lock-held']);
    assert.equal((await api.call('POST', '/api/tasks/lock-held/start')).status, 202);
    // the service's retry event names the cause (read from the event log: the task's summary shows
    // the error only between attempts, which a poll may miss)
    const seen = await followEvents(server, 'lock-held', {
      until: (e) => e.event === 'retry', // recorded after the failed attempt's task-end
      timeoutMs: 60_000,
    });
    const retry = seen.events.find((e) => e.event === 'retry');
    assert.ok(retry, seen.raw);
    assert.match(retry.data.error, /already running against this target/);
    const waiting = await api.call('GET', '/api/tasks/lock-held');
    assert.notEqual(waiting.body.status, 'failed', JSON.stringify(waiting.body.error));
  } finally {
    await leftover.end();
  }
  const done = await waitForTask(api, 'lock-held', (t) => ['done', 'failed', 'mismatch'].includes(t.status));
  assert.equal(done.status, 'done', JSON.stringify(done.error));
  assert.deepEqual(await tableHashes(tgt.url('shop_c')), await tableHashes(src.url('shop')));
});

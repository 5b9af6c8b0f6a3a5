// Automatic resume: the target server of a task run by pgferry serve goes down mid-copy for longer
// than the run's own retries last; the service runs the task again after a backoff (attempts and
// the next attempt shown in the summary and as a `retry` event) and it ends equal to its source.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { sampleDatabaseSql } from '../../src/dev/demo/sample.js';
import { startServer, type RunningServer } from '../../src/server/app.js';
import { tableHashes, withClient } from '../helpers/compare.js';
import { passwordHba, sourceAccount, targetAccount } from '../embed/accounts.js';
import { apiClient, bounce, followEvents, metric, parseMetrics, waitForTask } from './helpers.js';

const PW = { src: 'Rsrc-pw-2231-z', tgt: 'Rtgt-pw-6617-x' };
let src: Cluster;
let tgt: Cluster;
let server: RunningServer;
const dataDir = mkdtempSync(join(tmpdir(), 'pgferry-serve-resume-'));

before(async () => {
  [src, tgt] = await Promise.all([
    startCluster({ version: 15, name: 'pgferry-serve-src', hba: passwordHba(['rs_src']) }),
    startCluster({ version: 17, name: 'pgferry-serve-tgt', hba: passwordHba(['rs_tgt']) }),
  ]);
  await withClient(src.url(), (c) => c.query('CREATE DATABASE shop'));
  await withClient(src.url('shop'), (c) => c.query(sampleDatabaseSql(0.1)));
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

test('a task whose target is restarted mid-copy is resumed by the service and ends identical', async () => {
  const source = await sourceAccount(src, 'shop', 'rs_src', PW.src, ['shop', 'public']);
  const target = await targetAccount(tgt, 'shop', 'rs_tgt', PW.tgt);
  const api = apiClient(server);
  const task = {
    name: 'resume-me',
    source,
    target,
    noOwner: true,
    noAcl: true,
    jobs: 2,
    verify: 'hash',
    // the run's own retries give up after a second: the target stays down longer than that
    copy: { maxRowsPerSec: 1500, retryTimeSec: 1 },
  };
  assert.equal((await api.call('POST', '/api/tasks', task)).status, 201);
  assert.equal((await api.call('POST', '/api/tasks/resume-me/start')).status, 202);
  await followEvents(server, 'resume-me', { until: (e) => e.event === 'unit-done' });
  await bounce(tgt, 4000);
  const retrying = await waitForTask(api, 'resume-me', (t) => t.attempts >= 2 || t.status === 'retrying', 120_000);
  assert.notEqual(retrying.status, 'failed', JSON.stringify(retrying.error));
  const done = await waitForTask(api, 'resume-me', (t) => t.status === 'done' || t.status === 'failed');
  assert.equal(done.status, 'done', JSON.stringify(done.error));
  assert.ok(done.attempts >= 2, `attempts ${done.attempts}`);
  const all = await followEvents(server, 'resume-me', {
    until: (e, seen) => e.event === 'task-end' && e.data.ok === true && seen.some((x) => x.event === 'retry'),
  });
  const retries = all.events.filter((e) => e.event === 'retry' && /^task resume-me/.test(e.data.what));
  assert.ok(retries.length >= 1, 'the service announced its retry');
  assert.ok(retries[0].data.delayMs >= 500);
  assert.deepEqual(await tableHashes(tgt.url('shop')), await tableHashes(src.url('shop')));
  const report = await api.call('GET', '/api/tasks/resume-me/report');
  assert.equal(report.body.verification.ok, true);
  for (const pw of Object.values(PW)) assert.ok(!all.raw.includes(pw));
  // the metrics count the service's own resumes apart from the run's retries
  const m = parseMetrics((await api.call('GET', '/metrics')).text);
  assert.ok(metric(m, 'pgferry_resume_attempts_total', { task: 'resume-me', reason: 'retry' }) >= 1);
  assert.equal(metric(m, 'pgferry_resume_attempts_total', { task: 'resume-me', reason: 'restart' }), 0);
  assert.equal(metric(m, 'pgferry_tasks', { state: 'done' }), 1);
});

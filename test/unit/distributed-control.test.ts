// Names and timing of the distributed copy's jobs: a queue name pg-boss accepts, a stable UUID per
// (task, coordinator run, unit), and the job timing a deployment (or a test) may shorten.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_TIMING, jobIdOf, queueOf, timingFromEnv } from '../../src/stages/data/distributed/control.js';

test('queue names fit pg-boss (letters, digits, underscores, at most 50) and differ per task', () => {
  const a = queueOf('shop-to-shop_copy-1a2b3c4d');
  const b = queueOf('naïve "task" name with spaces');
  for (const q of [a, b]) {
    assert.match(q, /^[A-Za-z_]\w*$/);
    assert.ok(q.length <= 50);
  }
  assert.notEqual(a, b);
  assert.equal(a, queueOf('shop-to-shop_copy-1a2b3c4d'));
});

test('job ids are UUIDs, stable for a unit of a run, different across runs and units', () => {
  const id = jobIdOf('t', 'run1', '"app"."big"#0');
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(id, jobIdOf('t', 'run1', '"app"."big"#0'));
  assert.notEqual(id, jobIdOf('t', 'run2', '"app"."big"#0'));
  assert.notEqual(id, jobIdOf('t', 'run1', '"app"."big"#128'));
});

test('job timing: defaults take a dead worker over within a minute; PGFERRY_JOB_TIMING shortens it', () => {
  const d = DEFAULT_TIMING;
  assert.ok(d.expireSec + d.maintenanceSec + d.retryDelaySec < 60);
  assert.deepEqual(timingFromEnv({}), d);
  assert.deepEqual(timingFromEnv({ PGFERRY_JOB_TIMING: '4,1,1' }), {
    ...d,
    expireSec: 4,
    maintenanceSec: 1,
    retryDelaySec: 1,
  });
  assert.deepEqual(timingFromEnv({ PGFERRY_JOB_TIMING: '4,1,1,2' }), {
    expireSec: 4,
    maintenanceSec: 1,
    retryDelaySec: 1,
    retryLimit: 2,
  });
  assert.deepEqual(timingFromEnv({ PGFERRY_JOB_TIMING: '4,0,1' }), d);
  assert.deepEqual(timingFromEnv({ PGFERRY_JOB_TIMING: 'soon' }), d);
});

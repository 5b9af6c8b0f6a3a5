// Progress of the data copy: totals with units in flight, rates over a ~5 s window, ETA.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Progress, rates, type ProgressTable } from '../../src/stages/data/copy/progress.js';

test('rates between two samples, and the ETA of the rows left', () => {
  assert.deepEqual(rates({ t: 0, rows: 0, bytes: 0 }, { t: 2000, rows: 500, bytes: 3000 }, 2500), {
    rowsPerSec: 250,
    bytesPerSec: 1500,
    etaSec: 8,
  });
  assert.deepEqual(rates({ t: 1000, rows: 10, bytes: 10 }, { t: 1000, rows: 10, bytes: 10 }, 100), {
    rowsPerSec: 0,
    bytesPerSec: 0,
    etaSec: null,
  });
  // no estimate (never analyzed): no ETA; more rows than estimated: 0 s left
  assert.equal(rates({ t: 0, rows: 0, bytes: 0 }, { t: 1000, rows: 100, bytes: 0 }, 0).etaSec, null);
  assert.equal(rates({ t: 0, rows: 0, bytes: 0 }, { t: 1000, rows: 300, bytes: 0 }, 200).etaSec, 0);
});

test('progress events: done plus in flight, per active table, over a sliding window', () => {
  const p = new Progress(10_000, 1_000_000);
  p.add(1000, 100_000); // an earlier run
  const t: ProgressTable = {
    table: { key: 'public.a' },
    rows: 0,
    bytes: 0,
    liveRows: 0,
    liveBytes: 0,
    size: { bytes: 500_000, estRows: 5000 },
  };
  p.active.add(t);
  const e0 = p.event(0);
  assert.deepEqual(e0, {
    type: 'progress',
    rows: 1000,
    bytes: 100_000,
    estRows: 10_000,
    estBytes: 1_000_000,
    rowsPerSec: 0,
    bytesPerSec: 0,
    etaSec: null,
    active: [{ table: 'public.a', bytes: 0, estBytes: 500_000, rows: 0, estRows: 5000 }],
  });
  t.liveRows = 1000;
  t.liveBytes = 50_000;
  const e1 = p.event(1000);
  assert.ok(e1.type === 'progress');
  assert.deepEqual([e1.rows, e1.rowsPerSec, e1.bytesPerSec, e1.etaSec], [2000, 1000, 50_000, 8]);
  // the unit commits: live moves to done
  t.liveRows = t.liveBytes = 0;
  t.rows = 1000;
  t.bytes = 50_000;
  p.add(1000, 50_000);
  p.active.delete(t);
  for (const now of [2000, 3000, 4000, 5000, 6000]) p.event(now);
  // at 7000 the samples at 0 and 1000 are older than 5 s: the window starts at 2000 (2000 rows)
  const e7 = p.event(7000);
  assert.ok(e7.type === 'progress');
  assert.deepEqual([e7.rows, e7.rowsPerSec, e7.etaSec, e7.active], [2000, 0, null, []]);
});

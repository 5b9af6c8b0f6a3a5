// Which applied source position may be reported to the source when the target commits
// asynchronously (durable-acks.ts): only a batch whose COMMIT lies before the target's flushed WAL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DurableAcks } from '../../src/stages/cdc/durable-acks.js';

test('a batch is reported only once the target WAL read after its commit is flushed', () => {
  const d = new DurableAcks();
  assert.ok(d.settled);
  d.committed(100n); // batch 1 committed (source end 100)
  assert.equal(d.settled, false);
  // read inside batch 2: insert position 5000 is past batch 1's commit, flushed only to 4000
  assert.equal(d.observe({ walInsert: 5000n, walFlush: 4000n }), null);
  d.committed(200n); // batch 2
  // read after batch 2: flushed past 5000 (batch 1) but not 7000 (batch 2)
  assert.equal(d.observe({ walInsert: 7000n, walFlush: 6000n }), 100n);
  assert.equal(d.settled, false);
  assert.equal(d.observe({ walInsert: 7100n, walFlush: 7100n }), 200n);
  assert.ok(d.settled);
  assert.equal(d.observe({ walInsert: 7200n, walFlush: 7200n }), null, 'nothing new to report');
});

test('several commits between two reads wait for the one position read after the last of them', () => {
  const d = new DurableAcks();
  d.committed(100n);
  d.committed(300n);
  assert.equal(d.observe({ walInsert: 900n, walFlush: 899n }), null);
  assert.equal(d.observe({ walInsert: 950n, walFlush: 900n }), 300n);
});

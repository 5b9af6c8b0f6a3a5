// Every phase survives a restart of either server: `pg_ctl restart -m fast` of the target or the
// source during the schema, during the copy, at the entry to post-data and during verify; the
// same `migrate` call completes, verifies equal, and the rows and schema equal the source's.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { sampleDatabaseSql } from '../../src/dev/demo/sample.js';
import { validateTask } from '../../src/core/config.js';
import { EventBus, type TimedEvent } from '../../src/core/events.js';
import { migrate } from '../../src/engine/runner.js';
import { schemaFingerprint, tableHashes, withClient } from '../helpers/compare.js';

let src: Cluster;
let tgt: Cluster;
const stateDir = mkdtempSync(join(tmpdir(), 'pgferry-restart-state-'));

before(async () => {
  [src, tgt] = await Promise.all([
    startCluster({ version: 15, name: 'pgferry-restart' }),
    startCluster({ version: 17, name: 'pgferry-restart' }),
  ]);
  await withClient(src.url(), (c) => c.query('CREATE DATABASE shop'));
  await withClient(src.url('shop'), (c) => c.query(sampleDatabaseSql(0.1)));
});
after(async () => {
  await Promise.all([src?.stop(), tgt?.stop()]);
  rmSync(stateDir, { recursive: true, force: true });
});

/** The moments of a restart: the first event matching. The listener runs synchronously inside the run. */
const POINTS: Record<string, (e: TimedEvent) => boolean> = {
  'during the schema': (e) => e.type === 'object' && e.action === 'created' && e.section === 'pre',
  'during the copy': (e) => e.type === 'unit-done',
  'at the entry to post-data': (e) => e.type === 'phase-end' && e.phase === 'data',
  'during verify': (e) => e.type === 'verify-result',
};

for (const side of ['target', 'source'] as const) {
  for (const [point, match] of Object.entries(POINTS)) {
    test(`${side} restarted ${point}: the same migrate completes and verifies equal`, async () => {
      const db = `r_${side}_${point.replace(/\W+/g, '_')}`.slice(0, 60);
      await withClient(tgt.url(), (c) => c.query(`CREATE DATABASE ${db}`));
      const events = new EventBus();
      let restarted = false;
      events.on((e) => {
        if (restarted || !match(e)) return;
        restarted = true;
        (side === 'target' ? tgt : src).restart();
      });
      const task = validateTask({
        name: db,
        source: src.url('shop'),
        target: tgt.url(db),
        stateDir,
        jobs: 2,
        verify: 'count',
        copy: { retryTimeSec: 120 },
      });
      const result = await migrate(task, { events });
      assert.ok(restarted, 'the server was restarted');
      assert.equal(result.verify?.ok, true, JSON.stringify(result.verify?.tables.filter((t) => !t.ok)));
      assert.deepEqual(await tableHashes(tgt.url(db)), await tableHashes(src.url('shop')));
      assert.deepEqual(await schemaFingerprint(tgt.url(db)), await schemaFingerprint(src.url('shop')));
    });
  }
}

// The data stage keeps its snapshot record and unit checkpoints in the task's checkpoint schema
// (--state-schema), also when a table is emptied for a recopy.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { readSnapshotRecord, recordSnapshot } from '../../src/stages/data/copy/planstore.js';
import { resetTableTarget } from '../../src/stages/data/copy/recopy.js';
import { ensureCheckpoints, markUnitDone, useStateSchema } from '../../src/state/checkpoint.js';
import { copyTable, sql } from './helpers.js';

let pgc: Cluster;

before(async () => {
  pgc = await startCluster({ version: 15, name: 'pgferry-cpschema' });
  await sql(pgc.url(), `CREATE DATABASE t`);
  await sql(pgc.url('t'), `CREATE TABLE items (id int); INSERT INTO items SELECT generate_series(1, 10)`);
});

after(async () => {
  await pgc?.stop();
});

test('snapshot record and recopy reset use the task checkpoint schema, not "pgferry"', async () => {
  const taskId = 'elsewhere';
  useStateSchema(taskId, 'ferry state');
  const c = new pg.Client({ connectionString: pgc.url('t') });
  await c.connect();
  try {
    await ensureCheckpoints(c, taskId, 'postgresql://src/db');
    await recordSnapshot(c, taskId, { id: '00000003-1', lineage: '00000003-0' });
    assert.deepEqual(await readSnapshotRecord(c, taskId), { id: '00000003-1', lineage: '00000003-0' });
    const items = copyTable('public', 'items', [{ name: 'id', type: 'integer' }], false);
    await c.query('BEGIN');
    await markUnitDone(c, { taskId, unitId: `${items.key}#0`, table: items.key, rows: 10, bytes: 21, snapshot: 'L' });
    await c.query('COMMIT');
    assert.equal(await resetTableTarget(c, taskId, items), 'truncate');
    const left = await c.query(
      `SELECT (SELECT count(*) FROM items) AS rows,
      (SELECT count(*) FROM "ferry state".unit WHERE task_id = $1) AS units,
      to_regnamespace('pgferry') IS NULL AS no_default`,
      [taskId],
    );
    assert.deepEqual(left.rows[0], { rows: '0', units: '0', no_default: true });
  } finally {
    await c.end();
  }
});

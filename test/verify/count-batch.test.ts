/**
 * Count verification of many small tables: existence looked up once, counts batched per query,
 * and still exact per table (missing, mismatching, filtered, unreadable), as limited accounts;
 * the source side read early (while a migration copies), the target side at the end of the copy or
 * at the end.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { validateTask } from '../../src/core/config.js';
import { verify } from '../../src/stages/verify/index.js';
import { EarlySource } from '../../src/stages/verify/early.js';
import type { VerifyReport } from '../../src/stages/verify/types.js';
import { passwordHba, sourceAccount, targetAccount } from '../embed/accounts.js';
import { withClient } from '../helpers/compare.js';

const TABLES = 120;
const name = (i: number) => `t${String(i).padStart(3, '0')}`;
let cl: Cluster;
let source: string;
let target: string;

/** The tables, each with i % 7 + 1 rows; the filtered one (t021) holds only even ids on the target. */
function tablesSql(filtered: boolean): string {
  const out: string[] = [];
  for (let i = 0; i < TABLES; i++) {
    const even = filtered && i === 21 ? ' WHERE g % 2 = 0' : '';
    out.push(`CREATE TABLE ${name(i)} (id int PRIMARY KEY, v text);
      INSERT INTO ${name(i)} SELECT g, 'v' || g FROM generate_series(1, ${(i % 7) + 1}) g${even};`);
  }
  return out.join('\n');
}

before(async () => {
  cl = await startCluster({ version: 17, name: 'pgferry-vbatch', hba: passwordHba(['vb_src', 'vb_tgt']) });
  await withClient(cl.url(), (c) => c.query('CREATE DATABASE vb_source'));
  await withClient(cl.url('vb_source'), (c) => c.query(tablesSql(false)));
  source = await sourceAccount(cl, 'vb_source', 'vb_src', 'src-pw', ['public']);
  target = await targetAccount(cl, 'vb_target', 'vb_tgt', 'tgt-pw');
  // The target account creates and owns the target tables, as after a migration.
  await withClient(target, (c) =>
    c.query(`${tablesSql(true)}
      DROP TABLE ${name(7)};
      INSERT INTO ${name(13)} VALUES (100, 'extra');`),
  );
});
after(async () => {
  await cl?.stop();
});

const run = () =>
  verify(validateTask({ source, target, jobs: 2, tables: { [`public.${name(21)}`]: { where: 'id % 2 = 0' } } }), {
    mode: 'count',
  });

const byKey = (r: VerifyReport, i: number) => {
  const t = r.tables.find((x) => x.key === `public.${name(i)}`);
  assert.ok(t, `${name(i)} in the report`);
  return t;
};

/** Count the row-count and existence queries every pg.Client sends while `fn` runs. */
async function countingQueries<T>(fn: () => Promise<T>): Promise<{ result: T; queries: number }> {
  const original = pg.Client.prototype.query;
  let queries = 0;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const text = typeof args[0] === 'string' ? args[0] : ((args[0] as { text?: string })?.text ?? '');
    if (/count\(\*\)|to_regclass/.test(text)) queries++;
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof original;
  try {
    return { result: await fn(), queries };
  } finally {
    pg.Client.prototype.query = original;
  }
}

test('count verify batches small tables and still reports each table exactly', async () => {
  const { result: r, queries } = await countingQueries(run);
  assert.equal(r.tables.length, TABLES);
  // Per table: 1 existence lookup and 2 counts before batching; now a few queries for all.
  assert.ok(queries <= 10, `count/existence queries for ${TABLES} tables: ${queries}`);
  const missing = byKey(r, 7);
  assert.equal(missing.ok, false);
  assert.equal(missing.error, 'table public.t007 does not exist on the target');
  assert.deepEqual([missing.sourceRows, missing.targetRows], [1, null]);
  assert.deepEqual(
    missing.mismatches.map((m) => [m.range, m.sourceCount, m.targetCount]),
    [['whole table', 1, 0]],
  );
  const diff = byKey(r, 13);
  assert.deepEqual([diff.ok, diff.sourceRows, diff.targetRows, diff.error], [false, 7, 8, undefined]);
  assert.deepEqual(
    diff.mismatches.map((m) => [m.range, m.sourceCount, m.targetCount]),
    [['whole table', 7, 8]],
  );
  const filtered = byKey(r, 21);
  assert.deepEqual([filtered.ok, filtered.sourceRows, filtered.targetRows], [true, 0, 0]);
  const bad = r.tables.filter((t) => !t.ok).map((t) => t.key);
  assert.deepEqual(bad, ['public.t007', 'public.t013']);
  for (const t of r.tables.filter((x) => x.ok)) assert.equal(t.sourceRows, t.targetRows);
  assert.equal(byKey(r, 6).sourceRows, 7);
});

test('a table that fails its batch fails alone; the rest of the batch is still counted', async () => {
  // The target account loses its read access to one table: its count fails, the others do not.
  await withClient(cl.url('vb_target'), (c) => c.query(`ALTER TABLE ${name(30)} OWNER TO CURRENT_USER`));
  const r = await run();
  const t30 = byKey(r, 30);
  assert.equal(t30.ok, false);
  assert.match(t30.error ?? '', /permission denied/);
  const bad = r.tables.filter((t) => !t.ok).map((t) => t.key);
  assert.deepEqual(bad, ['public.t007', 'public.t013', 'public.t030']);
  assert.equal(byKey(r, 31).targetRows, 4);
});

test('source side read early: its snapshot counted; a target row deleted or added afterwards is caught', async () => {
  const task = validateTask({ source, target, jobs: 2, tables: { [`public.${name(21)}`]: { where: 'id % 2 = 0' } } });
  const early = new EarlySource(task);
  const side = await early.side;
  assert.ok(side, 'the source side was read');
  assert.equal(side.counts.get(`public.${name(40)}`), 6);
  // after the early read: a row added on the source (not seen: the source side is of the early
  // snapshot), a row deleted from one target table and one added to another (both seen)
  await withClient(cl.url('vb_source'), (c) => c.query(`INSERT INTO ${name(40)} VALUES (1000, 'late')`));
  await withClient(cl.url('vb_target'), (c) =>
    c.query(`DELETE FROM ${name(41)} WHERE id = 1; INSERT INTO ${name(42)} VALUES (1000, 'doubled')`),
  );
  try {
    const r = await verify(task, { mode: 'count', early });
    const [t40, t41, t42] = [byKey(r, 40), byKey(r, 41), byKey(r, 42)];
    assert.deepEqual([t40.ok, t40.sourceRows, t40.targetRows], [true, 6, 6]);
    assert.deepEqual([t41.ok, t41.sourceRows, t41.targetRows], [false, 7, 6]);
    assert.deepEqual([t42.ok, t42.sourceRows, t42.targetRows], [false, 1, 2]);
    assert.equal(byKey(r, 7).error, 'table public.t007 does not exist on the target');
    assert.equal(r.ok, false);
    // taken once: a retried verify reads the source side itself (and sees the new source row)
    const again = await verify(task, { mode: 'count', early });
    assert.deepEqual([byKey(again, 40).sourceRows, byKey(again, 40).ok], [7, false]);
  } finally {
    await withClient(cl.url('vb_source'), (c) => c.query(`DELETE FROM ${name(40)} WHERE id = 1000`));
    await withClient(cl.url('vb_target'), (c) =>
      c.query(`INSERT INTO ${name(41)} VALUES (1, 'v1'); DELETE FROM ${name(42)} WHERE id = 1000`),
    );
  }
});

test('the target side counted at the end of the copy is what verify reports; counted again after a reset', async () => {
  const task = validateTask({ source, target, jobs: 2 });
  const key55 = `public.${name(55)}`;
  const first = new EarlySource(task);
  const second = new EarlySource(task);
  try {
    assert.ok((await first.side) && (await second.side), 'the source sides were read');
    first.readTargetSide();
    const counted = await first.targetsCounted();
    assert.equal(counted?.get(key55), 7);
    // t007 is missing on the target: its batch (t000–t049) was not counted, verify counts those itself
    assert.equal(counted?.has(`public.${name(7)}`), false);
    assert.equal(counted?.has(`public.${name(120 - 1)}`), true, 'the last batch was counted');
    await withClient(target, (c) => c.query(`DELETE FROM ${name(55)} WHERE id = 1`));
    const r = await verify(task, { mode: 'count', early: first });
    assert.deepEqual([byKey(r, 55).ok, byKey(r, 55).targetRows], [true, 7], 'the count taken when the rows were in');
    assert.deepEqual([byKey(r, 13).ok, byKey(r, 13).targetRows], [false, 8], 'the extra row is still caught');
    assert.equal(byKey(r, 7).error, 'table public.t007 does not exist on the target');
    // counted without the row, which comes back before a rerun of the copy: counted again at verify
    second.readTargetSide();
    assert.equal((await second.targetsCounted())?.get(key55), 6);
    await withClient(target, (c) => c.query(`INSERT INTO ${name(55)} VALUES (1, 'v1')`));
    second.resetTargets();
    const again = await verify(task, { mode: 'count', early: second });
    assert.deepEqual([byKey(again, 55).ok, byKey(again, 55).targetRows], [true, 7]);
  } finally {
    first.close();
    second.close();
    await withClient(target, (c) => c.query(`INSERT INTO ${name(55)} VALUES (1, 'v1') ON CONFLICT DO NOTHING`));
  }
});

test("a big table's source count is read early too: at the end only its target side is counted", async () => {
  const create = `CREATE TABLE big (id int PRIMARY KEY, v text);
    INSERT INTO big SELECT g, repeat('x', 100) FROM generate_series(1, 20000) g;`;
  await withClient(cl.url('vb_source'), (c) => c.query(`${create} GRANT SELECT ON big TO vb_src;`));
  await withClient(target, (c) => c.query(create));
  const task = validateTask({ source, target, jobs: 2 });
  const early = new EarlySource(task);
  try {
    const side = await early.side;
    assert.ok(side, 'the source side was read');
    assert.equal(side.small.has('public.big'), false, 'big (2.6 MB) is not counted in a batch');
    assert.equal(side.counts.get('public.big'), 20000);
    // after the early read: a source row (not seen) and a target row deleted (seen)
    await withClient(cl.url('vb_source'), (c) => c.query(`INSERT INTO big VALUES (20001, 'late')`));
    await withClient(target, (c) => c.query('DELETE FROM big WHERE id = 1'));
    const r = await verify(task, { mode: 'count', early });
    const big = r.tables.find((x) => x.key === 'public.big');
    assert.ok(big, 'big in the report');
    assert.deepEqual([big.ok, big.sourceRows, big.targetRows], [false, 20000, 19999]);
  } finally {
    early.close();
    await withClient(cl.url('vb_source'), (c) => c.query('DROP TABLE big'));
    await withClient(target, (c) => c.query('DROP TABLE big'));
  }
});

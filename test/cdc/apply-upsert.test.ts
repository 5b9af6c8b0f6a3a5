// A batch's net effect applied as upserts (apply-compact.ts, target primary key = replica identity)
// against a real PostgreSQL 15 server, as a target account that owns the database and is not a
// superuser: key changes (a three-way swap among them), delete then insert of the same key, inserts
// updated later in the batch, rows deleted in the batch that did not exist before it, unchanged
// TOAST values (never overwritten), keyless inserts kept with their duplicates. The same changes
// go one statement per change into a twin table; both, and the DELETE + INSERT form of the net
// effect, must end equal. upsertKeys refuses a deferrable primary key (it cannot arbitrate).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import type { Cluster } from '../../src/dev/embedded/cluster.js';
import { startCluster } from '../../src/dev/embedded/cluster.js';
import { compactable, NetEffect, textArray } from '../../src/stages/cdc/apply-compact.js';
import { deleteSql, insertSql, type Sql, updateSql } from '../../src/stages/cdc/apply-sql.js';
import { type ColumnValue, UNCHANGED } from '../../src/stages/cdc/pgoutput/messages.js';
import { type RelationPlan, upsertKeys } from '../../src/stages/cdc/relations.js';
import type { CopyTable } from '../../src/stages/data/plan/types.js';
import { withClient } from '../helpers/compare.js';

let cluster: Cluster;
let url: string;

const BIG = (n: number) => `repeat(md5('${n}'), 400)`; // 12.8 kB: TOASTed (storage external)

before(async () => {
  cluster = await startCluster({ version: 15 });
  await withClient(cluster.url(), async (c) => {
    await c.query('CREATE ROLE ferry_tgt LOGIN');
    await c.query('CREATE DATABASE upsert_tgt OWNER ferry_tgt');
  });
  url = cluster.url('upsert_tgt', 'ferry_tgt');
  await withClient(url, async (c) => {
    for (const t of ['t_up', 't_del', 't_ref']) {
      await c.query(`CREATE TABLE ${t} (id int PRIMARY KEY, v text, big text);
                     ALTER TABLE ${t} ALTER big SET STORAGE EXTERNAL;
                     INSERT INTO ${t} SELECT g, 'v' || g, ${BIG(0)} || g FROM generate_series(1, 8) g`);
    }
    for (const t of ['bag', 'bag_ref']) await c.query(`CREATE TABLE ${t} (v text, n int)`);
    await c.query('CREATE TABLE d (id int PRIMARY KEY DEFERRABLE, v text)');
  });
});

after(async () => {
  await cluster?.stop();
});

const planOf = (table: string, keyless = false): RelationPlan => ({
  key: `public.${table}`,
  target: `public.${table}`,
  columns: keyless
    ? [
        { name: 'v', type: 'text' },
        { name: 'n', type: 'integer' },
      ]
    : [
        { name: 'id', type: 'integer' },
        { name: 'v', type: 'text' },
        { name: 'big', type: 'text' },
      ],
  identity: keyless ? [] : [0],
  full: keyless,
  noIdentity: false,
});

type Change =
  | { tag: 'insert'; row: ColumnValue[] }
  | { tag: 'update'; key?: ColumnValue[]; row: ColumnValue[] }
  | { tag: 'delete'; key: ColumnValue[] };

/** As the apply does: into the net effect when it takes the change, else settle it and go one by one. */
async function applyBatch(c: pg.Client, plan: RelationPlan, net: NetEffect, changes: Change[]): Promise<Sql[]> {
  const ran: Sql[] = [];
  const run = async (s: Sql | undefined) => {
    if (!s) return;
    ran.push(s);
    await c.query(s.text, s.values);
  };
  const settle = async () => {
    for (const s of net.take()) await run(s);
  };
  await c.query('BEGIN');
  for (const ch of changes) {
    if (!compactable(plan)) {
      if (ch.tag !== 'insert') throw new Error('keyless: inserts only here');
      net.append(plan, ch.row);
      continue;
    }
    const taken =
      ch.tag === 'insert'
        ? net.insert(plan, ch.row)
        : ch.tag === 'update'
          ? net.update(plan, ch)
          : net.delete(plan, ch);
    if (taken) continue;
    await settle();
    await run(
      ch.tag === 'insert' ? insertSql(plan, ch.row) : ch.tag === 'update' ? updateSql(plan, ch) : deleteSql(plan, ch),
    );
  }
  await settle();
  await c.query('COMMIT');
  return ran;
}

async function oneByOne(c: pg.Client, plan: RelationPlan, changes: Change[]): Promise<void> {
  for (const ch of changes) {
    const s =
      ch.tag === 'insert' ? insertSql(plan, ch.row) : ch.tag === 'update' ? updateSql(plan, ch) : deleteSql(plan, ch);
    if (s) await c.query(s.text, s.values);
  }
}

const rowsOf = async (c: pg.Client, table: string) =>
  (await c.query(`SELECT id, v, md5(big) AS big FROM ${table} ORDER BY id`)).rows;

const k = (id: number): ColumnValue[] => [String(id), null, null];
const whole = (id: number, v: string): ColumnValue[] => [String(id), v, `whole-${id}-${v}`];

const CHANGES: Change[] = [
  { tag: 'insert', row: whole(10, 'new') },
  { tag: 'update', row: ['1', 'v1-b', UNCHANGED] }, // big left alone (unchanged TOAST)
  { tag: 'update', row: ['1', 'v1-c', UNCHANGED] }, // twice: merged, still partial
  { tag: 'update', key: k(2), row: whole(20, 'moved') }, // key change
  { tag: 'delete', key: k(3) }, // delete, then insert the same key
  { tag: 'insert', row: whole(3, 'again') },
  { tag: 'insert', row: whole(11, 'ins') }, // insert, then update leaving big unchanged: merged
  { tag: 'update', row: ['11', 'ins-upd', UNCHANGED] },
  { tag: 'insert', row: whole(12, 'gone') }, // inserted and deleted in the batch
  { tag: 'delete', key: k(12) },
  { tag: 'update', key: k(5), row: whole(30, 'five') }, // 5 → 30, 6 → 5, 30 → 6
  { tag: 'update', key: k(6), row: whole(5, 'six') },
  { tag: 'update', key: k(30), row: whole(6, 'five-back') },
  { tag: 'update', row: whole(7, 'all-new') }, // an existing row, every value sent
  { tag: 'delete', key: k(8) },
  { tag: 'update', row: ['8', 'after-delete', UNCHANGED] }, // not taken: settled, then on its own
  { tag: 'update', key: k(4), row: ['40', 'moved-toast', UNCHANGED] }, // not taken: key change without big
  { tag: 'insert', row: whole(9, 'late') }, // after the settled ones: a second upsert
];

test('upserted net effect equals one statement per change: key changes, re-inserts, unchanged TOAST', async () => {
  await withClient(url, async (c) => {
    const keys = await upsertKeys(c, [
      { key: 'public.t_up', target: { schema: 'public', name: 't_up' } },
      { key: 'public.d', target: { schema: 'public', name: 'd' } },
    ] as unknown as CopyTable[]);
    assert.deepEqual([...keys], [['public.t_up', ['id']]], 'a deferrable primary key cannot arbitrate an upsert');

    const up = await applyBatch(c, planOf('t_up'), new NetEffect(() => true), CHANGES);
    const del = await applyBatch(c, planOf('t_del'), new NetEffect(), CHANGES);
    await oneByOne(c, planOf('t_ref'), CHANGES);

    const upserts = up.filter((s) => s.text.includes('ON CONFLICT (id) DO UPDATE SET'));
    assert.equal(upserts.length, 2, 'whole images went as upserts (before and after the settled update)');
    assert.ok(!del.some((s) => s.text.includes('ON CONFLICT')));
    // with upserts, only keys deleted in the batch are deleted: 2 (moved), 12, 30 (swap), 8
    // (the keys go as a text[] literal: {"2","12"})
    const deleted = up
      .filter((s) => s.text.startsWith('DELETE'))
      .flatMap((s) => (s.values[0] as string).slice(2, -2).split('","'));
    assert.deepEqual(deleted.sort(), ['12', '2', '30', '8']);

    const ref = await rowsOf(c, 't_ref');
    assert.deepEqual(await rowsOf(c, 't_up'), ref);
    assert.deepEqual(await rowsOf(c, 't_del'), ref);
    // the unchanged TOAST value of row 1 is the one it had before the batch
    const one = await c.query(`SELECT big = ${BIG(0)} || '1' AS kept, v FROM t_up WHERE id = 1`);
    assert.deepEqual(one.rows[0], { kept: true, v: 'v1-c' });
    const ids = ref.map((r) => r.id as number);
    assert.deepEqual(ids, [1, 3, 5, 6, 7, 9, 10, 11, 20, 40]);
  });
});

test('keyless inserts stay in order with their duplicates (never merged into upserts)', async () => {
  await withClient(url, async (c) => {
    const changes: Change[] = [
      { tag: 'insert', row: ['dup', '1'] },
      { tag: 'insert', row: ['dup', '1'] },
      { tag: 'insert', row: [null, '2'] },
    ];
    const ran = await applyBatch(c, planOf('bag', true), new NetEffect(() => true), changes);
    await oneByOne(c, planOf('bag_ref', true), changes);
    assert.ok(!ran.some((s) => s.text.includes('ON CONFLICT')));
    const rows = async (t: string) => (await c.query(`SELECT v, n FROM ${t} ORDER BY v NULLS LAST, n`)).rows;
    assert.deepEqual(await rows('bag'), await rows('bag_ref'));
    assert.equal((await rows('bag')).length, 3);
  });
});

test('set-based statements pass values as text[] literals the server reads back exactly', async () => {
  const values = ['', ' ', 'NULL', 'null', '{}', 'a,b', 'a"b', 'back\\slash\\"', '\n\t', 'é€😀', ' x ', null];
  const got = await withClient(url, (c) =>
    c.query<{ v: string | null }>('SELECT unnest($1::text[]) AS v', [textArray(values)]),
  );
  assert.deepEqual(
    got.rows.map((r) => r.v),
    values,
  );
});

/**
 * What the index sessions do beside the copy:
 *  - once the copy is done, its slots build indexes too: with one index session held up on a table
 *    (a lock the test holds), another table's index is built beside it by a session in a copy slot;
 *    with every row in and that one build left, the run winds down (CopyOptions.onWindDown), once;
 *  - a foreign key between two copied tables is added as soon as both are complete (after the
 *    referenced table's primary key), while another table's copy is still held up, and not again on
 *    a rerun;
 *  - one validated on the source is added NOT VALID, then validated in a second transaction: a run
 *    killed between the two leaves it NOT VALID (which the object verification does not accept) and
 *    the next run validates it.
 */
import type { Statement } from '../../src/core/statement.js';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { copyData } from '../../src/stages/data/copy/engine.js';
import { resolveConnSpec } from '../../src/pg/connstring.js';
import { EventBus, type TimedEvent } from '../../src/core/events.js';
import { copyDefaults, copyTable, early, runChild, sql } from './helpers.js';
import { ensureCheckpoints, stateTable } from '../../src/state/checkpoint.js';
import { toSafeUri } from '../../src/pg/connstring.js';
import { notValidKey } from '../../src/state/keys.js';
import { compareInventories, sourceInventory, targetInventory } from '../../src/stages/verify/objects.js';
import { Selection } from '../../src/core/selection.js';
import { validateTask } from '../../src/core/config.js';

let cl: Cluster;
const cols = [
  { name: 'id', type: 'integer' },
  { name: 'pad', type: 'text' },
];

before(async () => {
  cl = await startCluster({ version: 15, name: 'pgferry-islots' });
  await sql(cl.url(), `CREATE DATABASE s`);
  await sql(cl.url(), `CREATE DATABASE t`);
  // both above the small-table batch size (src/stages/data/plan/units.ts SMALL_BATCH): a unit each
  await sql(
    cl.url('s'),
    `CREATE TABLE a (id int, pad text); INSERT INTO a SELECT g, md5(g::text) FROM generate_series(1, 20000) g;
     CREATE TABLE b (id int, pad text); INSERT INTO b SELECT g, 'b' || g FROM generate_series(1, 15000) g;
     CREATE TABLE p (id int PRIMARY KEY, pad text); INSERT INTO p SELECT g, 'p' || g FROM generate_series(1, 2000) g;
     CREATE TABLE c (id int, p_id int REFERENCES p); INSERT INTO c SELECT g, 1 + g % 2000 FROM generate_series(1, 5000) g;`,
  );
  await sql(
    cl.url('t'),
    `CREATE TABLE a (id int, pad text); CREATE TABLE b (id int, pad text);
     CREATE TABLE p (id int NOT NULL, pad text); CREATE TABLE c (id int, p_id int);`,
  );
});

after(async () => {
  await cl?.stop();
});

async function until(what: string, ok: () => boolean | Promise<boolean>, sec = 60): Promise<void> {
  for (let i = 0; i < sec * 10; i++) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const waitingOnLock = async (prefix: string) =>
  (
    await sql(
      cl.url('t'),
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1`,
      [`${prefix}%`],
    )
  ).rows[0].n > 0;

test('once the copy is done, a copy slot builds an index while the index session waits on another table', async () => {
  const a = copyTable('public', 'a', cols, false);
  const b = copyTable('public', 'b', cols, false);
  const holdA = new pg.Client({ connectionString: cl.url('t') });
  const holdB = new pg.Client({ connectionString: cl.url('t') });
  await holdA.connect();
  await holdB.connect();
  // a's rows go in (ROW EXCLUSIVE) but its index build (SHARE) waits; b's COPY waits altogether
  await holdA.query('BEGIN; LOCK TABLE a IN SHARE UPDATE EXCLUSIVE MODE');
  await holdB.query('BEGIN; LOCK TABLE b IN EXCLUSIVE MODE');
  const events = new EventBus();
  const seen: TimedEvent[] = [];
  events.on((e) => seen.push(e));
  const windDowns: number[] = [];
  const run = copyData({
    source: resolveConnSpec(cl.url('s')),
    target: resolveConnSpec(cl.url('t')),
    taskId: 'slots',
    tables: [a, b],
    early: [
      { ...early(a, 'index public.a_id', 'CREATE INDEX a_id ON public.a (id)'), lock: 'share' },
      { ...early(b, 'index public.b_id', 'CREATE INDEX b_id ON public.b (id)'), lock: 'share' },
    ],
    sequences: [],
    jobs: 2,
    indexJobs: 1,
    noFreeze: true,
    copy: copyDefaults,
    events,
    // the tables done when the run winds down (every row in, at most one statement running)
    onWindDown: () => windDowns.push(seen.filter((e) => e.type === 'table-done').length),
  });
  const indexDone = (name: string) => seen.some((e) => e.type === 'index-done' && e.name === name);
  try {
    await until("a's index build waiting on the test's lock", () => waitingOnLock('CREATE INDEX a_id'));
    await holdB.query('COMMIT');
    await until("b's index", () => indexDone('index public.b_id'), 30);
    assert.ok(await waitingOnLock('CREATE INDEX a_id'), "a's build still waits: b's was built beside it");
    assert.ok(!indexDone('index public.a_id'));
    // every row in and one statement left (a's build): the run winds down, once both tables were done
    await until('the wind-down', () => windDowns.length > 0, 30);
    assert.deepEqual(windDowns, [2]);
  } catch (e) {
    await holdB.query('ROLLBACK').catch(() => {});
    await holdA.query('ROLLBACK').catch(() => {});
    await run.catch(() => {});
    throw e;
  } finally {
    await holdB.query('ROLLBACK').catch(() => {});
    await holdA.query('ROLLBACK');
    await holdA.end();
    await holdB.end();
  }
  const r = await run;
  assert.deepEqual(windDowns, [2], 'once');
  assert.deepEqual(
    r.tables.map((t) => [t.key, t.rows]),
    [
      ['public.a', 20000],
      ['public.b', 15000],
    ],
  );
  const idx = await sql(
    cl.url('t'),
    `SELECT string_agg(indexname, ',' ORDER BY indexname) AS i FROM pg_indexes WHERE schemaname = 'public'`,
  );
  assert.equal(idx.rows[0].i, 'a_id,b_id');
});

/** A copy's settings for tables p and c: p's primary key built early, the foreign key `fk` late. */
const withKeys = (p: ReturnType<typeof copyTable>, fk: Statement) => ({
  early: [{ ...early(p, 'constraint public.p.p_pkey', 'ALTER TABLE public.p ADD PRIMARY KEY (id)', 'constraint') }],
  foreignKeys: [fk],
  sequences: [],
  jobs: 2,
  indexJobs: 1,
  copy: copyDefaults,
});

/** The foreign key c(p_id) → p(id), added once both tables are complete. */
const cToP = (cKey: string, pKey: string) => ({
  key: 'foreign key public.c.c_p_id_fkey',
  kind: 'foreign key',
  name: 'c_p_id_fkey ON public.c',
  section: 'late' as const,
  sql: 'ALTER TABLE public.c ADD CONSTRAINT c_p_id_fkey FOREIGN KEY (p_id) REFERENCES public.p(id);',
  after: [cKey, pKey],
});

test('a foreign key between two complete tables is added while another table is still copied', async () => {
  const a = copyTable('public', 'a', cols, false);
  const p = copyTable('public', 'p', cols, true);
  const c = copyTable('public', 'c', [cols[0], { name: 'p_id', type: 'integer' }], false);
  const fk = cToP(c.key, p.key);
  const opts = (events: EventBus) => ({
    source: resolveConnSpec(cl.url('s')),
    target: resolveConnSpec(cl.url('t')),
    taskId: 'late-fk',
    tables: [a, p, c],
    ...withKeys(p, fk),
    events,
  });
  await sql(cl.url('t'), 'TRUNCATE a');
  const holdA = new pg.Client({ connectionString: cl.url('t') });
  await holdA.connect();
  // a's COPY (and its FREEZE truncation) waits for the test; p and c go in as one small-table unit
  await holdA.query('BEGIN; LOCK TABLE a IN EXCLUSIVE MODE');
  const events = new EventBus();
  const seen: TimedEvent[] = [];
  events.on((e) => seen.push(e));
  const run = copyData(opts(events));
  const created = (key: string) =>
    seen.findIndex((e) => e.type === 'object' && e.action === 'created' && e.name === key);
  try {
    await until('the foreign key', async () => created(fk.name) >= 0, 30);
    assert.ok(created('constraint public.p.p_pkey') >= 0 && created('constraint public.p.p_pkey') < created(fk.name));
    assert.ok(!seen.some((e) => e.type === 'table-done' && e.table === a.key), "a's copy is still held up");
    const con = await sql(cl.url('t'), `SELECT convalidated FROM pg_constraint WHERE conname = 'c_p_id_fkey'`);
    assert.deepEqual(con.rows, [{ convalidated: true }]);
  } catch (e) {
    await holdA.query('ROLLBACK').catch(() => {});
    await run.catch(() => {});
    throw e;
  } finally {
    await holdA.query('ROLLBACK').catch(() => {});
    await holdA.end();
  }
  const r = await run;
  assert.deepEqual(r.lateDone, [fk.key]);
  assert.deepEqual(
    r.tables.map((t) => [t.key, t.rows]),
    [
      ['public.a', 20000],
      ['public.p', 2000],
      ['public.c', 5000],
    ],
  );
  // a rerun finds it done: not added again (which would fail: it exists)
  const again = await copyData(opts(new EventBus()));
  assert.deepEqual(again.lateDone, []);
});

test('a foreign key added NOT VALID by a run killed before its validation is validated by the next run', async () => {
  await sql(cl.url(), `CREATE DATABASE t_split`);
  await sql(cl.url('t_split'), `CREATE TABLE p (id int NOT NULL, pad text); CREATE TABLE c (id int, p_id int);`);
  const p = copyTable('public', 'p', cols, true);
  const c = copyTable('public', 'c', [cols[0], { name: 'p_id', type: 'integer' }], false);
  const fk = {
    ...cToP(c.key, p.key),
    validation: {
      notValid: 'ALTER TABLE public.c ADD CONSTRAINT c_p_id_fkey FOREIGN KEY (p_id) REFERENCES public.p(id) NOT VALID;',
      validate: 'ALTER TABLE public.c VALIDATE CONSTRAINT c_p_id_fkey;',
    },
  };
  const taskId = 'fk-split';
  const args = {
    source: cl.url('s'),
    target: cl.url('t_split'),
    taskId,
    tables: [p, c],
    ...withKeys(p, fk),
  };
  // The test inserts the validated key's checkpoint row first and holds it uncommitted: the run's
  // validation, done in its transaction, waits on that row for its checkpoint, and is killed there.
  const hold = new pg.Client({ connectionString: cl.url('t_split') });
  await hold.connect();
  await ensureCheckpoints(hold, taskId, toSafeUri(resolveConnSpec(cl.url('s'))));
  await hold.query('BEGIN');
  await hold.query(
    `INSERT INTO ${stateTable(taskId, 'object')} (task_id, object_key, kind, section) VALUES ($1, $2, 'foreign key', 'late')`,
    [taskId, fk.key],
  );
  let kill: (() => void) | undefined;
  const validating = async () =>
    (
      await sql(
        cl.url('t_split'),
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO%object%'`,
      )
    ).rows[0].n > 0;
  const first = runChild(args, (_e, k) => (kill ??= k));
  try {
    await until('the validation waiting for its checkpoint', validating, 60);
    kill!();
    assert.equal((await first).signal, 'SIGKILL');
  } finally {
    await hold.query('ROLLBACK');
    await hold.end();
  }
  const state = async () => ({
    con: (await sql(cl.url('t_split'), `SELECT convalidated FROM pg_constraint WHERE conname = 'c_p_id_fkey'`)).rows,
    done: (
      await sql(
        cl.url('t_split'),
        `SELECT object_key FROM ${stateTable(taskId, 'object')} WHERE object_key LIKE 'foreign key%' ORDER BY 1`,
      )
    ).rows.map((r) => r.object_key),
  });
  await until('the killed run rolled back', async () => (await state()).con.length === 1, 30);
  assert.deepEqual(await state(), { con: [{ convalidated: false }], done: [notValidKey(fk.key)] });
  // the object verification does not take the NOT VALID key for the source's validated one
  const task = validateTask({ name: 'v', source: cl.url('s'), target: cl.url('t_split'), stateDir: '/nonexistent' });
  const [sc, tc] = [
    new pg.Client({ connectionString: cl.url('s') }),
    new pg.Client({ connectionString: cl.url('t_split') }),
  ];
  await sc.connect();
  await tc.connect();
  try {
    const srcInv = await sourceInventory(sc, new Selection(task));
    const fkRow = () =>
      compareInventories(srcInv.items, [])
        .filter((o) => o.kind.startsWith('constraints:foreign key'))
        .map((o) => [o.kind, o.sourceCount]);
    assert.deepEqual(fkRow(), [['constraints:foreign key', 1]], 'validated on the source');
    const cmp = compareInventories(srcInv.items, await targetInventory(tc, new Set(['public']), srcInv.targetTables));
    const fks = cmp.filter((o) => o.kind.startsWith('constraints:foreign key')).map((o) => [o.kind, o.ok]);
    assert.deepEqual(fks, [
      ['constraints:foreign key', false],
      ['constraints:foreign key (not valid)', false],
    ]);
  } finally {
    await sc.end();
    await tc.end();
  }
  const again = await copyData({
    ...args,
    source: resolveConnSpec(args.source),
    target: resolveConnSpec(args.target),
    events: new EventBus(),
  });
  assert.deepEqual(again.lateDone, [fk.key]);
  assert.deepEqual(await state(), { con: [{ convalidated: true }], done: [fk.key, notValidKey(fk.key)] });
});

/**
 * Early statements as structured steps (PostgreSQL 15): each index build and its attachment are two
 * statements with their key, SQL and lock level, and a target whose checkpoints an earlier pgferry
 * wrote — a key's build half done and its attachment not, an index with a comment recorded whole —
 * resumes without building anything twice.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { Selection } from '../../src/core/selection.js';
import { EventBus, type TimedEvent } from '../../src/core/events.js';
import { applyStatements, readSourceSchema, type GeneratedSchema } from '../../src/stages/schema/apply.js';
import { doneObjects, ensureCheckpoints, markObjectDone } from '../../src/state/checkpoint.js';
import { indexPartKey } from '../../src/state/keys.js';
import { copyData } from '../../src/stages/data/copy/engine.js';
import { listCopyTables } from '../../src/stages/data/plan/tables.js';
import { resolveConnSpec } from '../../src/pg/connstring.js';
import { copyDefaults } from '../copy/helpers.js';
import { client, createDb, runSql, task } from './helpers.js';

const FIXTURE = `
CREATE TABLE t (id int PRIMARY KEY, x int, v int);
CREATE INDEX t_x ON t (x);
COMMENT ON INDEX t_x IS 'x lookups';
CREATE TABLE u (id int, e int CONSTRAINT u_e_key UNIQUE);
CREATE TABLE p (a int, b int) PARTITION BY RANGE (a);
CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (100);
CREATE INDEX p_b ON p (b);
INSERT INTO t SELECT g, g % 7, g FROM generate_series(1, 500) g;
INSERT INTO u SELECT g, g FROM generate_series(1, 200) g;
INSERT INTO p SELECT g % 100, g FROM generate_series(1, 300) g;`;

let cl: Cluster;
let srcUrl: string;
let src: pg.Client;
let g: GeneratedSchema;

before(async () => {
  cl = await startCluster({ version: 15, name: 'pgferry-ddl-steps' });
  srcUrl = await createDb(cl, 'steps_src');
  await runSql(srcUrl, FIXTURE);
  src = await client(srcUrl);
  g = await readSourceSchema(src, new Selection(task()));
});

after(async () => {
  await src?.end().catch(() => {});
  await cl?.stop();
});

test('early steps: each build and its attachment with their key, SQL and lock level', () => {
  const early = g.statements.filter((s) => s.section === 'early');
  assert.deepEqual(
    early.map((s) => ({ key: s.key, table: s.table, lock: s.lock, buildOf: s.buildOf, sql: s.sql })),
    [
      {
        key: 'index public.p1_b_idx#index',
        table: 'public.p1',
        lock: 'share',
        buildOf: 'index public.p1_b_idx',
        sql: 'CREATE INDEX p1_b_idx ON public.p1 USING btree (b);',
      },
      {
        key: 'index public.p1_b_idx',
        table: 'public.p1',
        lock: 'access-exclusive',
        buildOf: undefined,
        sql: 'ALTER INDEX public.p_b ATTACH PARTITION public.p1_b_idx;',
      },
      {
        key: 'constraint public.t_pkey#index',
        table: 'public.t',
        lock: 'share',
        buildOf: 'constraint public.t_pkey',
        sql: 'CREATE UNIQUE INDEX t_pkey ON public.t USING btree (id);',
      },
      {
        key: 'constraint public.t_pkey',
        table: 'public.t',
        lock: 'access-exclusive',
        buildOf: undefined,
        sql: 'ALTER TABLE ONLY public.t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_pkey;',
      },
      {
        key: 'index public.t_x#index',
        table: 'public.t',
        lock: 'share',
        buildOf: 'index public.t_x',
        sql: 'CREATE INDEX t_x ON public.t USING btree (x);',
      },
      {
        key: 'index public.t_x',
        table: 'public.t',
        lock: 'share-update-exclusive',
        buildOf: undefined,
        sql: "COMMENT ON INDEX public.t_x IS 'x lookups';",
      },
      {
        key: 'constraint public.u_e_key#index',
        table: 'public.u',
        lock: 'share',
        buildOf: 'constraint public.u_e_key',
        sql: 'CREATE UNIQUE INDEX u_e_key ON public.u USING btree (e);',
      },
      {
        key: 'constraint public.u_e_key',
        table: 'public.u',
        lock: 'access-exclusive',
        buildOf: undefined,
        sql: 'ALTER TABLE ONLY public.u ADD CONSTRAINT u_e_key UNIQUE USING INDEX u_e_key;',
      },
    ],
  );
  // only the build carries the drop (ifExists: drop): dropping again before the attachment would lose the build
  for (const s of early) assert.equal(s.drop !== undefined, s.lock === 'share', s.key);
  // the partitioned parent's index is pre-data, one statement
  const parent = g.statements.find((s) => s.key === 'index public.p_b');
  assert.equal(parent?.section, 'pre');
  assert.equal(parent?.sql, 'CREATE INDEX p_b ON ONLY public.p USING btree (b);');
});

test('resume over checkpoints of an earlier pgferry: build half done, or the statement recorded whole', async () => {
  const taskId = 'steps';
  const tgtUrl = await createDb(cl, 'steps_tgt');
  const tgt = await client(tgtUrl);
  const events = new EventBus();
  try {
    await ensureCheckpoints(tgt, taskId, 'src');
    const pre = g.statements.filter((s) => s.section === 'pre');
    await applyStatements(tgt, pre, { taskId, events, ifExists: 'error' });
    // What an earlier pgferry left: t's primary key index built with its `#index` checkpoint, not attached;
    // t_x created with its comment as one statement, recorded under the index's key.
    await tgt.query('BEGIN');
    await tgt.query('CREATE UNIQUE INDEX t_pkey ON public.t USING btree (id)');
    await markObjectDone(tgt, taskId, indexPartKey('constraint public.t_pkey'), 'constraint', 'early');
    await tgt.query(`CREATE INDEX t_x ON public.t USING btree (x); COMMENT ON INDEX public.t_x IS 'x lookups'`);
    await markObjectDone(tgt, taskId, 'index public.t_x', 'index', 'early');
    await tgt.query('COMMIT');
  } finally {
    await tgt.end();
  }
  const seen: TimedEvent[] = [];
  events.on((e) => seen.push(e));
  const sel = new Selection(task());
  await copyData({
    source: resolveConnSpec(srcUrl),
    target: resolveConnSpec(tgtUrl),
    taskId,
    tables: await listCopyTables(src, sel),
    early: g.statements.filter((s) => s.section === 'early'),
    sequences: [],
    jobs: 2,
    indexJobs: 2,
    copy: copyDefaults,
    events,
  });
  const built = seen.filter((e) => e.type === 'index-start').map((e) => (e as { name: string }).name);
  assert.deepEqual(built.sort(), [
    'public.p1_b_idx',
    'public.p1_b_idx',
    'public.t_pkey',
    'public.u_e_key',
    'public.u_e_key',
  ]);
  const c = await client(tgtUrl);
  try {
    const cons = await c.query<{ conname: string; contype: string }>(
      `SELECT conname, contype FROM pg_constraint WHERE conrelid IN ('public.t'::regclass, 'public.u'::regclass)
       ORDER BY 1`,
    );
    assert.deepEqual(cons.rows, [
      { conname: 't_pkey', contype: 'p' },
      { conname: 'u_e_key', contype: 'u' },
    ]);
    const attached = await c.query(`SELECT 1 FROM pg_inherits WHERE inhrelid = 'public.p1_b_idx'::regclass
      AND inhparent = 'public.p_b'::regclass`);
    assert.equal(attached.rowCount, 1);
    const comment = await c.query(`SELECT obj_description('public.t_x'::regclass, 'pg_class') AS d`);
    assert.equal(comment.rows[0].d, 'x lookups');
    const done = await doneObjects(c, taskId);
    for (const s of g.statements.filter((x) => x.section === 'early' && x.buildOf === undefined))
      assert.ok(done.has(s.key), s.key);
  } finally {
    await c.end();
  }
});

test('an expression index build is marked, so that the table is analyzed after it', async () => {
  const url = await createDb(cl, 'steps_expr');
  await runSql(
    url,
    `CREATE TABLE w (id int PRIMARY KEY, x text); CREATE INDEX w_lower ON w (lower(x)); CREATE INDEX w_x ON w (x);`,
  );
  const c = await client(url);
  try {
    const gen = await readSourceSchema(c, new Selection(task()));
    const marks = gen.statements
      .filter((s) => s.section === 'early')
      .map((s) => [s.key, s.expressions === true])
      .sort();
    assert.deepEqual(marks, [
      ['constraint public.w_pkey#index', false],
      ['constraint public.w_pkey', false],
      ['index public.w_lower', true],
      ['index public.w_x', false],
    ]);
  } finally {
    await c.end();
  }
});

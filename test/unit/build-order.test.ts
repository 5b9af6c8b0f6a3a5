// A table's early steps in build order: index builds first (side by side), attachments after them
// (USING INDEX, ATTACH PARTITION), each skipped when its checkpoint says it is done.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildOrder } from '../../src/stages/data/copy/engine.js';
import type { LockLevel, Statement } from '../../src/core/statement.js';
import { indexPartKey } from '../../src/state/keys.js';

const st = (key: string, sql: string, lock: LockLevel, buildOf?: string): Statement => ({
  key,
  kind: 'constraint',
  name: key,
  section: 'early',
  sql,
  table: 't',
  lock,
  ...(buildOf ? { buildOf } : {}),
});

/** The two steps of a key built on an index, as the DDL generator emits them. */
const keySteps = (key: string, build: string, attach: string): Statement[] => [
  st(indexPartKey(key), build, 'share', key),
  st(key, attach, 'access-exclusive'),
];

const pk = keySteps(
  'pk',
  'CREATE UNIQUE INDEX t_pkey ON s.t USING btree (id);',
  'ALTER TABLE ONLY s.t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_pkey;',
);
const uq = keySteps(
  'uq',
  'CREATE UNIQUE INDEX t_e_key ON s.t USING btree (e);',
  'ALTER TABLE ONLY s.t ADD CONSTRAINT t_e_key UNIQUE USING INDEX t_e_key;',
);
const ix = st('ix', 'CREATE INDEX t_x ON s.t USING btree (x);', 'share');
const ex = st('ex', 'ALTER TABLE ONLY s.t ADD CONSTRAINT t_excl EXCLUDE USING gist (r WITH &&);', 'access-exclusive');

test('index builds first, then attachments and other constraints in their order', () => {
  const order = buildOrder([...pk, ex, ...uq, ix], new Set());
  assert.deepEqual(
    order.map((s) => s.key),
    ['pk#index', 'uq#index', 'ix', 'pk', 'ex', 'uq'],
  );
  assert.equal(order[0].sql, 'CREATE UNIQUE INDEX t_pkey ON s.t USING btree (id);');
  assert.equal(order[3].sql, 'ALTER TABLE ONLY s.t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_pkey;');
});

test('a build committed by an earlier run is not redone', () => {
  assert.deepEqual(
    buildOrder(pk, new Set(['pk#index'])).map((s) => s.key),
    ['pk'],
  );
});

test('a build whose attachment is done (recorded whole by an earlier pgferry) is not redone', () => {
  assert.deepEqual(
    buildOrder([...pk, ix], new Set(['pk'])).map((s) => s.key),
    ['ix'],
  );
});

test('partition leaf index: build, then ATTACH PARTITION', () => {
  const leaf = keySteps(
    'leaf',
    'CREATE INDEX p1_a_idx ON s.p1 USING btree (a);',
    'ALTER INDEX s.p_a_idx ATTACH PARTITION s.p1_a_idx;',
  );
  assert.deepEqual(
    buildOrder(leaf, new Set()).map((s) => [s.key, s.sql]),
    [
      ['leaf#index', 'CREATE INDEX p1_a_idx ON s.p1 USING btree (a);'],
      ['leaf', 'ALTER INDEX s.p_a_idx ATTACH PARTITION s.p1_a_idx;'],
    ],
  );
});

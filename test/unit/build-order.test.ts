// Index builds of a table run side by side; attachments (USING INDEX, ATTACH PARTITION) after them, alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildOrder } from '../../src/stages/data/copy/engine.js';
import type { Statement } from '../../src/core/statement.js';

const st = (key: string, sql: string): Statement => ({
  key,
  kind: 'constraint',
  name: key,
  section: 'early',
  sql,
  table: 't',
});

test('PK/UNIQUE statements are split into a parallel build and a serial attachment', () => {
  const pk = st(
    'pk',
    'CREATE UNIQUE INDEX t_pkey ON s.t USING btree (id);\nALTER TABLE ONLY s.t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_pkey;',
  );
  const uq = st(
    'uq',
    'CREATE UNIQUE INDEX t_e_key ON s.t USING btree (e);\nALTER TABLE ONLY s.t ADD CONSTRAINT t_e_key UNIQUE USING INDEX t_e_key;',
  );
  const ix = st('ix', 'CREATE INDEX t_x ON s.t USING btree (x);');
  const ex = st('ex', 'ALTER TABLE ONLY s.t ADD CONSTRAINT t_excl EXCLUDE USING gist (r WITH &&);');
  const order = buildOrder([pk, ex, uq, ix], new Set());
  assert.deepEqual(
    order.map((s) => s.key),
    ['pk#index', 'uq#index', 'ix', 'pk', 'ex', 'uq'],
  );
  assert.equal(order[0].sql, 'CREATE UNIQUE INDEX t_pkey ON s.t USING btree (id);');
  assert.match(order[3].sql, /^ALTER TABLE ONLY s\.t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_pkey;$/);
});

test('a build half committed by an earlier run is not redone', () => {
  const pk = st(
    'pk',
    'CREATE UNIQUE INDEX t_pkey ON s.t USING btree (id);\nALTER TABLE ONLY s.t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_pkey;',
  );
  assert.deepEqual(
    buildOrder([pk], new Set(['pk#index'])).map((s) => s.key),
    ['pk'],
  );
});

test('partition leaf index: build, then ATTACH PARTITION', () => {
  const leaf = st(
    'leaf',
    'CREATE INDEX p1_a_idx ON s.p1 USING btree (a);\nALTER INDEX s.p_a_idx ATTACH PARTITION s.p1_a_idx;',
  );
  assert.deepEqual(
    buildOrder([leaf], new Set()).map((s) => [s.key, s.sql]),
    [
      ['leaf#index', 'CREATE INDEX p1_a_idx ON s.p1 USING btree (a);'],
      ['leaf', 'ALTER INDEX s.p_a_idx ATTACH PARTITION s.p1_a_idx;'],
    ],
  );
});

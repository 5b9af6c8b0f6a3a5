// Change capture without a server: a Relation message that differs from the columns the task knows
// stops the apply naming the table and the change; statements built from changes leave unchanged TOAST
// values out, find rows by key or (FULL) by every column, and map renamed tables and columns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { missingFromMessage, planRelation, type KnownTable } from '../../src/stages/cdc/relations.js';
import { deleteSql, insertSql, updateSql } from '../../src/stages/cdc/apply-sql.js';
import { UNCHANGED, type RelationMessage } from '../../src/stages/cdc/pgoutput/messages.js';
import { PgferryError } from '../../src/core/errors.js';

const known: KnownTable = {
  table: {
    key: 'app.users',
    source: { schema: 'app', name: 'users' },
    target: { schema: 'crm', name: 'app_users' },
    columns: [
      { source: 'id', target: 'id', type: 'integer' },
      { source: 'email', target: 'email_address', type: 'text' },
      { source: 'doc', target: 'doc', type: 'jsonb' },
    ],
    hasPrimaryKey: true,
  },
  sourceTypes: new Map([
    ['id', 23],
    ['email', 25],
    ['doc', 3802],
    ['secret', 25],
  ]),
  targetTypes: new Map([
    ['id', 'integer'],
    ['email_address', 'text'],
    ['doc', 'jsonb'],
  ]),
};

const relation = (over: Partial<RelationMessage> = {}): RelationMessage => ({
  tag: 'relation',
  oid: 1,
  schema: 'app',
  name: 'users',
  replicaIdentity: 'd',
  columns: [
    { name: 'id', typeOid: 23, typmod: -1, key: true },
    { name: 'email', typeOid: 25, typmod: -1, key: false },
    { name: 'doc', typeOid: 3802, typmod: -1, key: false },
    { name: 'secret', typeOid: 25, typmod: -1, key: false },
  ],
  ...over,
});

test('a Relation message that differs from the known columns stops the apply, naming table, change and fix', () => {
  const added = relation({ columns: [...relation().columns, { name: 'born', typeOid: 1082, typmod: -1, key: false }] });
  assert.throws(
    () => planRelation(added, [known]),
    (e: unknown) =>
      e instanceof PgferryError &&
      /source table app\.users changed .*column born added/.test(e.message) &&
      /same change on the target/.test(e.hint ?? ''),
  );
  const retyped = relation({ columns: relation().columns.map((c) => (c.name === 'doc' ? { ...c, typeOid: 25 } : c)) });
  assert.throws(() => planRelation(retyped, [known]), /column doc changed type \(oid 3802 → 25\)/);
  const dropped = relation({ columns: relation().columns.filter((c) => c.name !== 'secret') });
  assert.throws(() => planRelation(dropped, [known]), /column secret dropped or renamed/);
  assert.deepEqual(missingFromMessage(dropped, [known]), ['secret']);
  // still on the source now: the message predates its ADD COLUMN, and it is planned without it
  assert.equal(planRelation(dropped, [known], new Set(['secret']))?.columns.length, dropped.columns.length);
  assert.throws(() => planRelation(dropped, [known], new Set(['other'])), /column secret dropped or renamed/);
});

test('statements: renamed table and columns, unselected column left out, unchanged TOAST never overwritten', () => {
  const p = planRelation(relation(), [known])!;
  assert.deepEqual(insertSql(p, ['1', 'a@x', '{}', 'pw']), {
    text: 'INSERT INTO crm.app_users (id, email_address, doc) VALUES ($1::integer, $2::text, $3::jsonb)',
    values: ['1', 'a@x', '{}'],
  });
  assert.deepEqual(updateSql(p, { row: ['1', 'b@x', UNCHANGED, 'pw'] }), {
    text: 'UPDATE crm.app_users SET id = $1::integer, email_address = $2::text WHERE id = $3::integer',
    values: ['1', 'b@x', '1'],
  });
  assert.deepEqual(updateSql(p, { key: ['1', null, null, null], row: ['2', 'b@x', UNCHANGED, 'pw'] })?.values, [
    '2',
    'b@x',
    '1',
  ]);
  assert.deepEqual(deleteSql(p, { key: ['7', null, null, null] }), {
    text: 'DELETE FROM crm.app_users WHERE id = $1::integer',
    values: ['7'],
  });
});

test('REPLICA IDENTITY FULL: one row found by every column (as text), NULLs by IS NULL; NOTHING refuses with the fix', () => {
  const full = planRelation(relation({ replicaIdentity: 'f' }), [known])!;
  assert.deepEqual(deleteSql(full, { old: ['1', null, '{"a": 1}', 'pw'] }), {
    text:
      'DELETE FROM crm.app_users WHERE ctid = (SELECT ctid FROM crm.app_users WHERE id::text = ($1::integer)::text ' +
      'AND email_address IS NULL AND doc::text = ($2::jsonb)::text LIMIT 1)',
    values: ['1', '{"a": 1}'],
  });
  const nothing = planRelation(relation({ replicaIdentity: 'n' }), [known])!;
  assert.throws(
    () => deleteSql(nothing, { key: [] }),
    (e: unknown) =>
      e instanceof PgferryError && /no replica identity/.test(e.message) && /REPLICA IDENTITY FULL/.test(e.hint ?? ''),
  );
});

// The net effect of a batch (apply-compact.ts) without a server: per key the last image or the
// deletion, key changes as delete + whole image, unchanged TOAST values merged from an earlier image
// of the batch or left alone, keyless inserts kept in order. The statements it builds run against
// real servers in test/cdc (workload, incremental).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetEffect } from '../../src/stages/cdc/apply-compact.js';
import { UNCHANGED } from '../../src/stages/cdc/pgoutput/messages.js';
import type { RelationPlan } from '../../src/stages/cdc/relations.js';

const plan: RelationPlan = {
  key: 'public.t',
  target: 'public.t',
  columns: [
    { name: 'id', type: 'integer' },
    { name: 'v', type: 'text' },
    { name: 'big', type: 'text' },
  ],
  identity: [0],
  full: false,
  noIdentity: false,
};

test('net effect: last image per key, deletions, key changes, unchanged TOAST merged or left alone', () => {
  const n = new NetEffect();
  assert.ok(n.insert(plan, ['1', 'a', 'x']));
  assert.ok(n.update(plan, { row: ['1', 'b', UNCHANGED] })); // merged: big stays 'x'
  assert.ok(n.update(plan, { row: ['2', 'c', UNCHANGED] })); // existed before: partial
  assert.ok(n.update(plan, { key: ['3', null, null], row: ['30', 'moved', 'y'] }));
  assert.ok(n.delete(plan, { key: ['4', null, null] }));
  assert.equal(n.update(plan, { row: ['4', 'after delete', 'z'] }), false, 'an update of a row deleted in the batch');
  assert.equal(n.update(plan, { key: ['5', null, null], row: ['50', 'moved', UNCHANGED] }), false);
  const sql = n.take();
  assert.equal(n.size, 0);
  assert.deepEqual(
    sql.map((s) => s.text),
    [
      'DELETE FROM public.t WHERE (id) IN (SELECT u.c1::integer FROM unnest($1::text[]) AS u(c1))',
      'INSERT INTO public.t (id, v, big) SELECT u.c1::integer, u.c2::text, u.c3::text FROM unnest($1::text[], $2::text[], $3::text[]) AS u(c1, c2, c3)',
      'UPDATE public.t AS t SET v = u.c2::text FROM unnest($1::text[], $2::text[]) AS u(c1, c2) WHERE t.id = u.c1::integer',
    ],
  );
  assert.deepEqual(sql[0].values, ['{"1","3","30","4"}']);
  assert.deepEqual(sql[1].values, ['{"1","30"}', '{"b","moved"}', '{"x","y"}']);
  assert.deepEqual(sql[2].values, ['{"2"}', '{"c"}']);
});

test('net effect: inserts into a keyless table are kept in order, never merged', () => {
  const n = new NetEffect();
  const keyless = { ...plan, identity: [], full: true };
  n.append(keyless, ['1', 'dup', null]);
  n.append(keyless, ['1', 'dup', null]);
  const [sql] = n.take();
  assert.deepEqual(sql.values, ['{"1","1"}', '{"dup","dup"}', '{NULL,NULL}']);
});

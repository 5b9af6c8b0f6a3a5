// Pure parts of the selection: near matches, trigger names, contradictions, merged-schema clashes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { editDistance, nearMatches, nearNames } from '../../src/core/suggest.js';
import { parseTriggerName, Selection } from '../../src/core/selection.js';
import { validateTask } from '../../src/core/config.js';
import { objectCollisions } from '../../src/stages/precheck/object-collisions.js';
import { PgferryError } from '../../src/core/errors.js';

test('near matches: other letter case first, else a couple of edits', () => {
  assert.equal(editDistance('orders', 'ordres'), 2);
  assert.equal(editDistance('abc', 'xyzxyz', 2), 3);
  assert.deepEqual(nearMatches('public.users', ['public.Users', 'public.orders', 'public.user']), ['public.Users']);
  assert.deepEqual(nearMatches('public.users', ['public.orders', 'public.user']), ['public.user']);
  const near = nearNames(
    ['public', 'users'],
    [
      ['public', 'Users'],
      ['public', 'orders'],
    ],
    (p) => p.join('|'),
  );
  assert.deepEqual(near, ['public|Users']);
  assert.deepEqual(nearMatches('users', ['Users', 'user', 'orders']), ['Users']);
  assert.deepEqual(nearMatches('x', ['orders']), []);
});

test('trigger names: schema.table.trigger with SQL quoting', () => {
  assert.deepEqual(parseTriggerName('public.t.trg'), ['public', 't', 'trg']);
  assert.deepEqual(parseTriggerName('"My.Schema"."T"."a.b"'), ['My.Schema', 'T', 'a.b']);
  for (const bad of ['t.trg', 'a.b.c.d', '"x', 'public.t.']) {
    assert.throws(
      () => parseTriggerName(bad),
      (e) => e instanceof PgferryError && e.kind === 'usage',
      bad,
    );
  }
  const sel = new Selection(validateTask({ source: 's', target: 't', excludeTriggers: ['"A".t.Trg'] }));
  assert.equal(sel.triggerExcluded('A', 't', 'trg'), true);
  assert.equal(sel.triggerExcluded('a', 't', 'trg'), false);
});

test('the same table or schema included and excluded is a usage error naming it', () => {
  const task = (o: Record<string, unknown>) => validateTask({ source: 's', target: 't', ...o });
  const both = task({ includeTables: ['public.T'], excludeTables: ['PUBLIC.t'] });
  assert.throws(() => new Selection(both), /table public\.T is both/);
  assert.throws(() => new Selection(task({ includeSchemas: ['a'], excludeSchemas: ['a'] })), /schema a is both/);
  assert.doesNotThrow(() => new Selection(task({ includeTables: ['public.*'], excludeTables: ['public.t'] })));
});

test('merged schemas: objects of one name space that land on one target name clash', () => {
  const clashes = objectCollisions([
    { kind: 'type', source: 'a.mood', target: 'c.mood' },
    { kind: 'domain', source: 'b.mood', target: 'c.mood' },
    { kind: 'schema', source: 'a', target: 'c' },
    { kind: 'schema', source: 'b', target: 'c' },
    { kind: 'function', source: 'a.f(integer)', target: 'c.f(integer)' },
    { kind: 'function', source: 'b.f(text)', target: 'c.f(text)' },
  ]);
  assert.deepEqual(clashes, ['type a.mood, domain b.mood all become c.mood on the target']);
});

// What an incremental task's publication lists for partitioned tables: the root (PostgreSQL 13+) when
// all its partitions are selected as the root says, else the partitions one by one with the root watched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateTask } from '../../src/core/config.js';
import { Selection } from '../../src/core/selection.js';
import { publishedTablesOf } from '../../src/engine/published-tables.js';
import type { CatalogFacts, FactRelation } from '../../src/stages/schema/catalog/facts.js';

function rel(name: string, kind: 'r' | 'p', root: string | null, pk: string[] = ['id']): FactRelation {
  const col = (n: string, num: number) => ({
    name: n,
    num,
    type: 'integer',
    typeSchema: 'pg_catalog',
    typeName: 'int4',
    notNull: true,
    hasDefault: false,
    identity: false,
    generated: false,
    collSchema: null,
    collName: null,
  });
  return {
    oid: name,
    schema: 'public',
    name,
    kind,
    isPartition: root !== null,
    root: root === null ? null : { schema: 'public', name: root },
    owner: 'o',
    acl: null,
    hasKey: pk.length > 0,
    pkColumns: pk,
    bytes: 0,
    tablespace: null,
    columns: [col('id', 1), col('v', 2)],
  };
}

const facts: CatalogFacts = {
  user: 'u',
  superuser: false,
  database: 'd',
  schemas: [{ name: 'public', owner: 'o', acl: null }],
  relations: [rel('ev', 'p', null), rel('ev_a', 'r', 'ev'), rel('ev_b', 'r', 'ev'), rel('plain', 'r', null)],
  sequences: [],
};

const sel = (extra: Record<string, unknown> = {}) =>
  new Selection(validateTask({ source: 's', target: 't', ...extra }));
const ident = new Map([['public.ev', 'd']]);
const names = (p: ReturnType<typeof publishedTablesOf>) => p.tables.map((t) => `${t.key}->${t.target.name}`).sort();

test('PostgreSQL 13+: a wholly selected root is published itself, renamed and column-mapped as the task says', () => {
  const p = publishedTablesOf(
    facts,
    sel({ tables: { 'public.ev': { rename: 'events', columnMap: { v: 'val' } } } }),
    150000,
    ident,
  );
  assert.deepEqual(names(p), ['public.ev->events', 'public.plain->plain']);
  const root = p.tables.find((t) => t.key === 'public.ev')!;
  assert.deepEqual(
    root.columns.map((c) => c.target),
    ['id', 'val'],
  );
  assert.deepEqual(p.watch.roots, []);
  assert.deepEqual(p.viaRoot, ['public.ev']);
});

test('PostgreSQL 12, some partitions only, a partition with options of its own, or no usable identity: partitions one by one, root watched', () => {
  const leaves = ['public.ev_a->ev_a', 'public.ev_b->ev_b', 'public.plain->plain'];
  const v12 = publishedTablesOf(facts, sel(), 120000, ident);
  assert.deepEqual(names(v12), leaves);
  assert.deepEqual(v12.watch.roots, [{ schema: 'public', name: 'ev' }]);
  assert.equal(v12.watch.selected('public', 'ev_new', { schema: 'public', name: 'ev' }), true);

  const some = publishedTablesOf(facts, sel({ includeTables: ['public.ev_a', 'public.plain'] }), 150000, ident);
  assert.deepEqual(names(some), ['public.ev_a->ev_a', 'public.plain->plain']);
  assert.deepEqual(some.watch.roots, [{ schema: 'public', name: 'ev' }]);
  assert.equal(some.watch.selected('public', 'ev_new', { schema: 'public', name: 'ev' }), false);
  assert.equal(some.watch.selected('public', 'ev_a', { schema: 'public', name: 'ev' }), true);

  const own = publishedTablesOf(facts, sel({ tables: { 'public.ev_a': { where: 'id > 0' } } }), 150000, ident);
  assert.deepEqual(names(own), leaves);

  const keyless = { ...facts, relations: facts.relations.map((r) => (r.name === 'ev' ? rel('ev', 'p', null, []) : r)) };
  assert.deepEqual(names(publishedTablesOf(keyless, sel(), 150000, ident)), leaves);
  const full = publishedTablesOf(keyless, sel(), 150000, new Map([['public.ev', 'f']]));
  assert.deepEqual(names(full), ['public.ev->ev', 'public.plain->plain']);
});

test('a root not selected, with no partition selected, is neither published nor watched', () => {
  const p = publishedTablesOf(facts, sel({ includeTables: ['public.plain'] }), 150000, ident);
  assert.deepEqual(names(p), ['public.plain->plain']);
  assert.deepEqual(p.watch.roots, []);
});

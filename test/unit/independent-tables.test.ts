// Which CREATE TABLEs may run on two target sessions at once: runs of tables that name no other
// table of the run; everything else keeps its order on one session.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Statement } from '../../src/core/statement.js';
import { independentRuns, ownName, words } from '../../src/stages/schema/independent.js';

const table = (name: string, sql: string): Statement => ({
  key: `table ${name}`,
  kind: 'table',
  name,
  section: 'pre',
  sql,
});
const plain = (i: number) => table(`public.t${i}`, `CREATE TABLE public.t${i} (id integer, v text);`);
const shape = (runs: ReturnType<typeof independentRuns>) =>
  runs.map((r) => `${r.independent ? 'I' : 'S'}:${r.stmts.map((s) => s.name.replace(/^\w+\./, '')).join(',')}`);

test('words and own names: quoted as written, unquoted also folded', () => {
  assert.deepEqual(
    [...words('CREATE TABLE "My ""T"".x" (a public.Foo)')],
    ['CREATE', 'create', 'TABLE', 'table', 'My "T".x', 'a', 'public', 'Foo', 'foo'],
  );
  assert.equal(ownName('"my schema"."T 1"'), 'T 1');
  assert.equal(ownName('public.t1'), 't1');
});

test('plain tables form one run; other statements stay in order around it', () => {
  const schema: Statement = { key: 'schema s', kind: 'schema', name: 's', section: 'pre', sql: 'CREATE SCHEMA s;' };
  const view: Statement = { key: 'view v', kind: 'view', name: 'public.v', section: 'pre', sql: 'CREATE VIEW …' };
  const runs = independentRuns([schema, plain(1), plain(2), plain(3), view], 2);
  assert.deepEqual(shape(runs), ['S:s', 'I:t1,t2,t3', 'S:v']);
});

test('a table naming one created earlier in the run starts the next run', () => {
  const stmts = [
    plain(1),
    plain(2),
    table('public.p', 'CREATE TABLE public.p (id integer) PARTITION BY RANGE (id);'),
    plain(3),
    table('public.p1', 'CREATE TABLE public.p1 PARTITION OF public.p FOR VALUES FROM (1) TO (9);'),
    plain(4),
    table('public.c', 'CREATE TABLE public.c (x integer) INHERITS (public.t4);'),
    table('public.r', 'CREATE TABLE public.r (row public.c);'),
    table('public.g', `CREATE TABLE public.g (k regclass DEFAULT 'public.r'::regclass);`),
  ];
  assert.deepEqual(shape(independentRuns(stmts, 1)), ['I:t1,t2,p,t3', 'I:p1,t4', 'I:c', 'I:r', 'I:g']);
  // runs shorter than the minimum are applied on one session, in order
  assert.deepEqual(shape(independentRuns(stmts, 3)), ['I:t1,t2,p,t3', 'S:p1,t4,c,r,g']);
});

test('a table of the same name in another schema is never beside it', () => {
  const stmts = [
    table('a.t', 'CREATE TABLE a.t (id integer);'),
    table('b.t', 'CREATE TABLE b.t (x a.t);'),
    table('b.u', 'CREATE TABLE b.u (id integer);'),
  ];
  assert.deepEqual(shape(independentRuns(stmts, 1)), ['I:t', 'I:t,u']);
});

test('quoted names match only as written', () => {
  const stmts = [
    table('public."Big"', 'CREATE TABLE public."Big" (id integer);'),
    table('public.big', 'CREATE TABLE public.big (id integer);'),
    table('public.x', 'CREATE TABLE public.x (b public."Big");'),
  ];
  assert.deepEqual(shape(independentRuns(stmts, 1)), ['I:"Big",big', 'I:x']);
});

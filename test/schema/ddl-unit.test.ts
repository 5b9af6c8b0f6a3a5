/** Pure parts of the DDL stage: name rewriting and dependency ordering. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rewriteNames, type NameMap } from '../../src/ddl/rewrite.js';
import { topoSort } from '../../src/ddl/toposort.js';

const map: NameMap = {
  schemas: new Map([['app', 'New App'], ['Odd "S"', 'plain']]),
  tables: new Map([['app\u0000orders', 'Orders ✓']]),
};

test('rewriteNames: qualified names, literals, bodies, regclass, columns', () => {
  assert.equal(rewriteNames('SELECT o.id FROM app.orders o JOIN app.items i ON true', map).sql,
    'SELECT o.id FROM "New App"."Orders ✓" o JOIN "New App".items i ON true');
  assert.equal(rewriteNames(`SELECT 'app.orders'::text, "Odd ""S""".t`, map).sql, `SELECT 'app.orders'::text, plain.t`);
  assert.equal(rewriteNames(`nextval('app.orders_id_seq'::regclass)`, map).sql, `nextval('"New App".orders_id_seq'::regclass)`);
  assert.equal(rewriteNames(`nextval('"Odd ""S"""."Seq Q"'::regclass)`, map).sql, `nextval('plain."Seq Q"'::regclass)`);
  const body = rewriteNames('CREATE FUNCTION app.f() RETURNS int AS $f$ SELECT count(*) FROM app.orders $f$ LANGUAGE sql', map);
  assert.equal(body.sql, 'CREATE FUNCTION "New App".f() RETURNS int AS $f$ SELECT count(*) FROM app.orders $f$ LANGUAGE sql');
  assert.equal(body.unsafe, true);
  const cols = new Map([['k', 'Key'], ['lower', 'x']]);
  assert.equal(rewriteNames('CREATE INDEX i ON app.t USING btree (lower(k)) WHERE (k IS NOT NULL) -- k', map, cols).sql,
    'CREATE INDEX i ON "New App".t USING btree (lower("Key")) WHERE ("Key" IS NOT NULL) -- k');
  assert.equal(rewriteNames('SELECT 1', { schemas: new Map(), tables: new Map() }).sql, 'SELECT 1');
  assert.equal(rewriteNames(`E'it\\'s app.x' || app.y`, map).sql, `E'it\\'s app.x' || "New App".y`);
});

test('topoSort: dependencies first, then rank and name; cycles are reported and broken', () => {
  const n = (id: string, rank: number) => ({ id, rank, stmt: { name: id } });
  const nodes = [n('view', 9), n('func', 4), n('table', 6), n('enum', 2), n('domain', 2), n('schema', 0)];
  const deps = new Map<string, Set<string>>([
    ['view', new Set(['func'])], ['func', new Set(['table'])], ['table', new Set(['domain', 'schema'])], ['domain', new Set(['enum'])],
    ['enum', new Set(['schema'])],
  ]);
  assert.deepEqual(topoSort(nodes, deps, () => assert.fail('no cycle')).map((x) => x.id), ['schema', 'enum', 'domain', 'table', 'func', 'view']);
  const cyc: string[][] = [];
  const out = topoSort([n('a', 1), n('b', 2), n('c', 0)], new Map([['a', new Set(['b'])], ['b', new Set(['a'])]]), (c) => cyc.push(c));
  assert.deepEqual(out.map((x) => x.id), ['c', 'a', 'b']);
  assert.equal(cyc.length, 1);
});

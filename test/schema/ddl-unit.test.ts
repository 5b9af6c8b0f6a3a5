/** Pure parts of the DDL stage: name rewriting and dependency ordering. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rewriteNames, type NameMap } from '../../src/stages/schema/ddl/rewrite.js';
import { topoSort } from '../../src/stages/schema/ddl/toposort.js';
import type { CatalogModel } from '../../src/stages/schema/catalog/model.js';

const map: NameMap = {
  schemas: new Map([
    ['app', 'New App'],
    ['Odd "S"', 'plain'],
  ]),
  tables: new Map([['app\u0000orders', 'Orders ✓']]),
};

test('rewriteNames: qualified names, literals, bodies, regclass, columns', () => {
  assert.equal(
    rewriteNames('SELECT o.id FROM app.orders o JOIN app.items i ON true', map).sql,
    'SELECT o.id FROM "New App"."Orders ✓" o JOIN "New App".items i ON true',
  );
  assert.equal(rewriteNames(`SELECT 'app.orders'::text, "Odd ""S""".t`, map).sql, `SELECT 'app.orders'::text, plain.t`);
  assert.equal(
    rewriteNames(`nextval('app.orders_id_seq'::regclass)`, map).sql,
    `nextval('"New App".orders_id_seq'::regclass)`,
  );
  assert.equal(rewriteNames(`nextval('"Odd ""S"""."Seq Q"'::regclass)`, map).sql, `nextval('plain."Seq Q"'::regclass)`);
  const body = rewriteNames(
    'CREATE FUNCTION app.f() RETURNS int AS $f$ SELECT count(*) FROM app.orders $f$ LANGUAGE sql',
    map,
  );
  assert.equal(
    body.sql,
    'CREATE FUNCTION "New App".f() RETURNS int AS $f$ SELECT count(*) FROM app.orders $f$ LANGUAGE sql',
  );
  assert.equal(body.unsafe, true);
  const cols = new Map([
    ['k', 'Key'],
    ['lower', 'x'],
  ]);
  assert.equal(
    rewriteNames('CREATE INDEX i ON app.t USING btree (lower(k)) WHERE (k IS NOT NULL) -- k', map, cols).sql,
    'CREATE INDEX i ON "New App".t USING btree (lower("Key")) WHERE ("Key" IS NOT NULL) -- k',
  );
  assert.equal(rewriteNames('SELECT 1', { schemas: new Map(), tables: new Map() }).sql, 'SELECT 1');
  assert.equal(rewriteNames(`E'it\\'s app.x' || app.y`, map).sql, `E'it\\'s app.x' || "New App".y`);
});

test('topoSort: dependencies first, then rank and name; cycles are reported and broken', () => {
  const n = (id: string, rank: number) => ({ id, rank, stmt: { name: id } });
  const nodes = [n('view', 9), n('func', 4), n('table', 6), n('enum', 2), n('domain', 2), n('schema', 0)];
  const deps = new Map<string, Set<string>>([
    ['view', new Set(['func'])],
    ['func', new Set(['table'])],
    ['table', new Set(['domain', 'schema'])],
    ['domain', new Set(['enum'])],
    ['enum', new Set(['schema'])],
  ]);
  assert.deepEqual(
    topoSort(nodes, deps, () => assert.fail('no cycle')).map((x) => x.id),
    ['schema', 'enum', 'domain', 'table', 'func', 'view'],
  );
  const cyc: string[][] = [];
  const out = topoSort(
    [n('a', 1), n('b', 2), n('c', 0)],
    new Map([
      ['a', new Set(['b'])],
      ['b', new Set(['a'])],
    ]),
    (c) => cyc.push(c),
  );
  assert.deepEqual(
    out.map((x) => x.id),
    ['c', 'a', 'b'],
  );
  assert.equal(cyc.length, 1);
});

test('generateDdl: default privileges follow noOwner/ownerTo/noAcl; secret options are reported, never printed', async () => {
  const { generateDdl } = await import('../../src/stages/schema/ddl/generate.js');
  const { Selection } = await import('../../src/core/selection.js');
  const { task } = await import('./helpers.js');
  const empty: CatalogModel = {
    serverVersionNum: 150000,
    schemas: [],
    extensions: [],
    types: [],
    sequences: [],
    tables: [],
    indexes: [],
    foreignKeys: [],
    views: [],
    functions: [],
    triggers: [],
    rules: [],
    policies: [],
    collations: [],
    statistics: [],
    operators: [],
    opFamilies: [],
    opClasses: [],
    casts: [],
    tsDicts: [],
    tsConfigs: [],
    fdws: [],
    servers: [],
    userMappings: [],
    foreignTables: [],
    eventTriggers: [],
    publications: [],
    defaultAcls: [],
    conversions: [],
    dependencies: [],
    notMigrated: [],
    skipped: [],
    unreadable: [],
  };
  const m: CatalogModel = {
    ...empty,
    defaultAcls: [
      {
        id: 'defacl:1',
        oid: '1',
        role: 'app owner',
        schema: null,
        objType: 'f',
        acl: [
          { grantee: 'app owner', privilege: 'EXECUTE', grantable: false },
          { grantee: 'reader', privilege: 'EXECUTE', grantable: true },
        ],
        base: [
          { grantee: '', privilege: 'EXECUTE', grantable: false },
          { grantee: 'app owner', privilege: 'EXECUTE', grantable: false },
        ],
      },
    ],
    fdws: [
      {
        id: 'fdw:2',
        oid: '2',
        name: 'w',
        owner: 'o',
        comment: null,
        acl: null,
        handler: null,
        validator: null,
        options: null,
      },
    ],
    servers: [
      {
        id: 'srv:3',
        oid: '3',
        name: 's',
        owner: 'o',
        comment: null,
        acl: null,
        fdw: 'w',
        type: null,
        version: null,
        options: [
          ['host', 'h'],
          ['secret_key', 'k1'],
        ],
      },
    ],
    userMappings: [
      {
        id: 'um:4',
        oid: '4',
        server: 's',
        serverId: 'srv:3',
        user: 'u',
        options: [
          ['user', 'x'],
          ['password', 'hunter2'],
        ],
        hidden: false,
      },
    ],
  };
  const sqlOf = (over: Record<string, unknown>) =>
    generateDdl(m, new Selection(task(over)))
      .statements.map((s) => s.sql)
      .join('\n');
  const plain = generateDdl(m, new Selection(task()));
  const all = plain.statements.map((s) => s.sql).join('\n');
  assert.match(all, /ALTER DEFAULT PRIVILEGES FOR ROLE "app owner" REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;/);
  assert.match(
    all,
    /ALTER DEFAULT PRIVILEGES FOR ROLE "app owner" GRANT EXECUTE ON FUNCTIONS TO reader WITH GRANT OPTION;/,
  );
  assert.ok(!/hunter2|k1/.test(all), all);
  assert.match(all, /CREATE USER MAPPING FOR u SERVER s OPTIONS \("user" 'x'\);/);
  assert.match(all, /CREATE SERVER s FOREIGN DATA WRAPPER w OPTIONS \(host 'h'\);/);
  assert.deepEqual(
    plain.notMigrated.map((n) => `${n.kind}: ${n.name}`),
    ['foreign server option: secret_key of s', 'user mapping option: password of FOR u SERVER s'],
  );
  assert.match(sqlOf({ noOwner: true }), /ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;/);
  assert.match(sqlOf({ ownerTo: 'new owner' }), /ALTER DEFAULT PRIVILEGES FOR ROLE "new owner" REVOKE/);
  assert.ok(!/DEFAULT PRIVILEGES/.test(sqlOf({ noAcl: true })));
  // user mappings/servers follow the statement order: wrapper, server, mapping
  const kinds = plain.statements.map((s) => s.kind);
  assert.ok(
    kinds.indexOf('foreign-data wrapper') < kinds.indexOf('foreign server') &&
      kinds.indexOf('foreign server') < kinds.indexOf('user mapping'),
  );
});

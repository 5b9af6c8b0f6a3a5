/**
 * Schema stage against real PostgreSQL 15 servers: round trip of the kitchen-sink fixture
 * (pg_dump --schema-only of source and target identical), schema/table mapping, `plan --sql`
 * through psql, and failure + resume.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { Selection } from '../../src/core/selection.js';
import { applyStatements, readSourceSchema, type GeneratedSchema } from '../../src/stages/schema/apply.js';
import { ensureCheckpoints } from '../../src/state/checkpoint.js';
import { EventBus, type TimedEvent } from '../../src/core/events.js';
import { StatementError } from '../../src/core/errors.js';
import { listCopyTables } from '../../src/stages/data/plan/tables.js';
import type { Statement } from '../../src/core/statement.js';
import { blocks, cli, createRoles, client, createDb, diff, dump, fixture, psql, runSql, task } from './helpers.js';

let a: Cluster;
let b: Cluster;
let srcUrl: string;
let src: pg.Client;

before(async () => {
  // wal_level = logical on the target: otherwise CREATE PUBLICATION warns (and `plan --sql` through psql is not silent)
  [a, b] = await Promise.all([
    startCluster({ version: 15, name: 'pgferry-schema' }),
    startCluster({ version: 15, name: 'pgferry-schema', settings: { wal_level: 'logical' } }),
  ]);
  await Promise.all([createRoles(a), createRoles(b)]);
  srcUrl = await createDb(a, 'src "Quoted" ✓ db');
  await runSql(srcUrl, fixture(15));
  src = await client(srcUrl);
});

after(async () => {
  await src?.end().catch(() => {});
  await Promise.all([a?.stop(), b?.stop()]);
});

async function applyAll(
  url: string,
  g: { statements: Statement[] },
  taskId = 't1',
  events = new EventBus(),
): Promise<void> {
  const t = await client(url);
  try {
    await ensureCheckpoints(t, taskId, 'src');
    for (const s of ['pre', 'early', 'late'] as const) {
      await applyStatements(
        t,
        g.statements.filter((x) => x.section === s),
        { taskId, events, ifExists: 'error' },
      );
    }
  } finally {
    await t.end();
  }
}

test('kitchen sink 15 → 15: target pg_dump --schema-only equals the source', async () => {
  const g = await readSourceSchema(src, new Selection(task()));
  assert.deepEqual(g.warnings, []);
  assert.deepEqual(g.notMigrated, []);
  const allKeys = g.statements.map((s) => s.key);
  assert.equal(new Set(allKeys).size, allKeys.length, 'statement keys are unique (resume bookkeeping)');
  // every early statement belongs to a table the data engine copies (its CopyTable key)
  const keys = new Set((await listCopyTables(src, new Selection(task()))).map((t) => t.key));
  assert.ok(keys.has('app.customer') && keys.has('app.measure_2021_a'));
  for (const s of g.statements.filter((x) => x.section === 'early'))
    assert.ok(s.table && keys.has(s.table), `early statement ${s.key} names a copied table`);
  const tgtUrl = await createDb(b, 'tgt "Quoted" ✓ db');
  await applyAll(tgtUrl, g);
  const ds = dump(srcUrl);
  const dt = dump(tgtUrl);
  assert.ok(ds === dt, diff(ds, dt));
  // GRANT/REVOKE too (owners are the same role on both sides here)
  const as = dump(srcUrl, { acl: true });
  const at = dump(tgtUrl, { acl: true });
  assert.ok(as === at, diff(as, at));
});

test('schema map and table rename: target equals source with the names replaced', async () => {
  const t = task({
    mapSchemas: { 'Odd "Schema" ünï': 'Mapped ✓' },
    tables: { 'app.scratch': { rename: 'scratch pad' } },
  });
  const g: GeneratedSchema = await readSourceSchema(src, new Selection(t));
  const tgtUrl = await createDb(b, 'mapped');
  await applyAll(tgtUrl, g);
  const expected = blocks(
    dump(srcUrl)
      .replace(/"Odd ""Schema"" ünï"/g, '"Mapped ✓"')
      .replace(/app\.scratch(?![A-Za-z0-9_])/g, 'app."scratch pad"'),
  );
  const actual = blocks(dump(tgtUrl));
  assert.deepEqual(actual, expected);
  assert.ok(g.objects.some((o) => o.target === '"Mapped ✓"."Order Items ✓"'));
});

test('plan --sql prints a script that psql runs cleanly on an empty database, and touches no target', async () => {
  const r = cli(['plan', '--source', srcUrl, '--sql']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /-- ===== early =====/);
  const tgtUrl = await createDb(b, 'from plan');
  const p = psql(tgtUrl, r.stdout);
  assert.equal(p.status, 0, p.stderr);
  assert.equal(p.stderr.trim(), '');
  const ds = dump(srcUrl);
  const dt = dump(tgtUrl);
  assert.ok(ds === dt, diff(ds, dt));
  const h = cli(['plan', '--source', srcUrl, '--map-schema', 'app=app2']);
  assert.equal(h.status, 0, h.stderr);
  assert.match(h.stdout, /table +app\.customer +-> +app2\.customer/);
  assert.match(h.stdout, /Tables to copy \(\d+\)/);
  const j = cli(['plan', '--source', srcUrl, '--target', 'postgresql://127.0.0.1:1/nowhere', '--json']);
  assert.equal(j.status, 0, j.stderr);
  const doc = JSON.parse(j.stdout);
  assert.ok(doc.objects.length > 20);
  assert.ok(Array.isArray(doc.notMigrated) && Array.isArray(doc.warnings));
});

test('a failing statement reports statement and PostgreSQL message; a rerun resumes', async () => {
  const g = await readSourceSchema(src, new Selection(task()));
  const tgtUrl = await createDb(b, 'resume');
  await runSql(tgtUrl, 'CREATE SCHEMA app; CREATE TABLE app.serialized (x int);');
  await assert.rejects(applyAll(tgtUrl, g, 'resume'), (e: unknown) => {
    assert.ok(e instanceof StatementError);
    assert.match(e.message, /relation "serialized" already exists/);
    assert.match(e.message, /STATEMENT: CREATE TABLE app\.serialized/);
    assert.equal(e.sqlstate, '42P07');
    assert.match(e.object ?? '', /table app\.serialized/);
    return true;
  });
  await runSql(tgtUrl, 'DROP TABLE app.serialized');
  const seen: TimedEvent[] = [];
  const ev = new EventBus();
  ev.on((e) => seen.push(e));
  await applyAll(tgtUrl, g, 'resume', ev);
  const skipped = seen.filter((e) => e.type === 'object' && e.action === 'skipped').length;
  assert.ok(skipped > 5, `skipped ${skipped}`);
  const ds = dump(srcUrl);
  const dt = dump(tgtUrl);
  assert.ok(ds === dt, diff(ds, dt));
});

test('column renames follow into indexes; owner and ACL options are honoured', async () => {
  const t = task({ tables: { 'app.scratch': { columnMap: { k: 'Key ✓' }, columns: ['k', 'v'] } } });
  const g = await readSourceSchema(src, new Selection(t));
  assert.deepEqual(g.notMigrated.map((x) => x.name).sort(), ['app.scratch_ci', 'app.scratch_h']);
  const tgtUrl = await createDb(b, 'colmap');
  await applyAll(tgtUrl, g);
  const c = await client(tgtUrl);
  try {
    const r = await c.query<{ indexname: string; indexdef: string }>(
      `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'app' AND tablename = 'scratch' ORDER BY 1`,
    );
    const defs = Object.fromEntries(r.rows.map((x) => [x.indexname, x.indexdef]));
    assert.match(defs.scratch_expr, /lower\("Key ✓"\)\) WHERE \("Key ✓" IS NOT NULL\)/);
    assert.match(defs.scratch_incl, /\("Key ✓"\) INCLUDE \(v\)/);
    assert.equal(defs.scratch_h, undefined);
    const cols = await c.query(
      `SELECT attname FROM pg_attribute WHERE attrelid = 'app.scratch'::regclass AND attnum > 0 ORDER BY attnum`,
    );
    assert.deepEqual(
      cols.rows.map((x) => x.attname),
      ['Key ✓', 'v'],
    );
  } finally {
    await c.end();
  }

  const plain = await readSourceSchema(src, new Selection(task({ noOwner: true, noAcl: true })));
  assert.ok(!plain.statements.some((s) => /OWNER TO|GRANT |REVOKE /.test(s.sql)));
  const owned = await readSourceSchema(src, new Selection(task({ ownerTo: 'Reader Röle' })));
  const owners = owned.statements.flatMap((s) => [...s.sql.matchAll(/OWNER TO ([^;]+);/g)].map((m) => m[1]));
  assert.ok(owners.length > 10 && owners.every((o) => o === '"Reader Röle"'), owners.join(','));
});

test('ifExists skip and drop over an already migrated database', async () => {
  const g = await readSourceSchema(src, new Selection(task()));
  const tgtUrl = await createDb(b, 'twice');
  await applyAll(tgtUrl, g, 'first');
  for (const mode of ['skip', 'drop'] as const) {
    const t = await client(tgtUrl);
    try {
      await ensureCheckpoints(t, mode, 'src');
      for (const s of ['pre', 'early', 'late'] as const) {
        await applyStatements(
          t,
          g.statements.filter((x) => x.section === s),
          { taskId: mode, events: new EventBus(), ifExists: mode },
        );
      }
    } finally {
      await t.end();
    }
    const ds = dump(srcUrl);
    const dt = dump(tgtUrl);
    assert.ok(ds === dt, `${mode}: ${diff(ds, dt)}`);
  }
});

test('objects depending on an excluded table are listed as not migrated; the rest applies', async () => {
  const t = task({ excludeTables: ['app.customer'], dropOrphanForeignKeys: true });
  const g = await readSourceSchema(src, new Selection(t));
  const names = g.notMigrated.map((n) => `${n.kind} ${n.name}`);
  for (const want of [
    'view app.v_customer',
    'function app.customer_by_id(p_id bigint)',
    'function app.rich()',
    'view app.v_rich',
    'materialized view app.mv_totals',
  ]) {
    assert.ok(names.includes(want), `${want} in ${names.join('; ')}`);
  }
  assert.ok(g.notMigrated.some((n) => n.kind === 'foreign key' && /not selected/.test(n.reason)));
  const leaks = g.statements
    .filter((s) => /\bapp\.customer\b(?!_)/.test(s.sql) && s.kind !== 'function' && s.kind !== 'procedure')
    .map((s) => s.key);
  assert.deepEqual(leaks, []);
  assert.ok(
    g.warnings.some((w) => /procedure app\.bump.*refers to app\.customer, which is not selected/.test(w)),
    g.warnings.join('\n'),
  );
  const tgtUrl = await createDb(b, 'partial');
  await applyAll(tgtUrl, g);
});

test('user mapping passwords are reported, never printed; global objects follow includeSchemas', async () => {
  const url = await createDb(a, 'secrets');
  await runSql(
    url,
    `CREATE FOREIGN DATA WRAPPER w; CREATE SERVER s FOREIGN DATA WRAPPER w;
    CREATE USER MAPPING FOR PUBLIC SERVER s OPTIONS (user 'u', password 'hunter2');
    CREATE SCHEMA x; CREATE FOREIGN TABLE x.f (a int) SERVER s; CREATE PUBLICATION p FOR ALL TABLES;`,
  );
  const c = await client(url);
  try {
    const g = await readSourceSchema(c, new Selection(task()));
    assert.ok(!g.statements.some((s) => s.sql.includes('hunter2')));
    assert.ok(g.statements.some((s) => s.kind === 'user mapping' && /OPTIONS \("user" 'u'\)/.test(s.sql)));
    assert.deepEqual(
      g.notMigrated.map((n) => `${n.kind} ${n.name}`),
      ['user mapping option password of FOR PUBLIC SERVER s'],
    );
    // includeSchemas: the server of a selected foreign table comes along, the publication does not
    const only = await readSourceSchema(c, new Selection(task({ includeSchemas: ['x'] })));
    for (const k of ['foreign-data wrapper', 'foreign server', 'user mapping', 'foreign table'])
      assert.ok(
        only.statements.some((s) => s.kind === k),
        k,
      );
    assert.deepEqual(
      only.notMigrated.map((n) => `${n.kind} ${n.name}`),
      ['user mapping option password of FOR PUBLIC SERVER s', 'publication p'],
    );
  } finally {
    await c.end();
  }
});

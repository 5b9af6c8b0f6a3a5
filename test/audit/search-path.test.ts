// A source on PostgreSQL 12, where every user may create objects in schema public (the default
// before 15): a user plants public.pg_relation_size(oid) and friends, which PostgreSQL prefers over
// pg_catalog's (regclass) for an oid argument, so that a query calling pg_relation_size(c.oid) runs
// the planted function with the rights of whoever runs the query (CVE-2018-1058's pattern). The object
// picker, a migration (large objects included) and the PostgreSQL task store must call pg_catalog's
// functions, never the planted ones (obj_description(oid, text) wins over pg_catalog's (oid, name) for a
// quoted literal).
//
// Every session pgferry opens runs with an empty search_path (only pg_catalog), so nothing it names
// unqualified can be one of mallory's: the planted overloads that beat pg_catalog's for the argument
// types pgferry passes (quote_ident(name), has_database_privilege(name, text)) and, for a role whose
// search_path lists pg_catalog after public, exact copies of the built-ins pgferry calls in ping,
// precheck, migrate and verify. Row filters alone resolve on the role's own search_path.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import pg from 'pg';
import { writeFileSync } from 'node:fs';
import { connect, withClient as withSession } from '../../src/pg/connect.js';
import { startPath, withStartPath } from '../../src/pg/search-path.js';
import { resolveConnSpec } from '../../src/pg/connstring.js';
import { readCatalog } from '../../src/server/catalog-query.js';
import { PgTaskStore } from '../../src/state/pg-store.js';
import { sourceAccount, targetAccount } from '../embed/accounts.js';
import { tableHashes, withClient } from '../helpers/compare.js';

let cluster: Cluster;
const dir = mkdtempSync(join(tmpdir(), 'pgferry-audit-sp-'));

// each planted function leaves a row naming the role it ran as, then answers what pg_catalog's would
const plant = (fn: string, ret: string, body: string) => `
  CREATE FUNCTION public.${fn}(oid) RETURNS ${ret} LANGUAGE sql AS $$
    INSERT INTO public.planted_log VALUES ('${fn}', current_user); SELECT ${body} $$;`;

before(async () => {
  cluster = await startCluster({
    version: 12,
    hba: ['host all sp_src,sp_tgt,sp_src2,sp_tgt2,mallory 127.0.0.1/32 md5'] /* 12 stores md5 */,
  });
  await withClient(cluster.url(), async (c) => {
    await c.query(`CREATE ROLE mallory LOGIN PASSWORD 'mallory-pw'`);
    await c.query('CREATE DATABASE shop');
    await c.query('CREATE DATABASE shop_copy2');
  });
  await withClient(cluster.url('shop'), (c) =>
    c.query(`CREATE TABLE public.planted_log (fn text, ran_as text);
      GRANT INSERT ON public.planted_log TO PUBLIC;
      CREATE TABLE public.items (id int PRIMARY KEY, note text);
      INSERT INTO public.items SELECT g, 'n' || g FROM generate_series(1, 500) g;
      CREATE TABLE public.parted (id int) PARTITION BY RANGE (id);
      CREATE TABLE public.parted_1 PARTITION OF public.parted FOR VALUES FROM (0) TO (1000);
      INSERT INTO public.parted SELECT generate_series(1, 10);
      CREATE TABLE public.tagged (id int PRIMARY KEY, code varchar(10), score float8, r regclass);
      INSERT INTO public.tagged SELECT g, 'C' || g, g / 4.0, 'public.tagged' FROM generate_series(1, 100) g;
      SELECT lo_from_bytea(4242, 'large object bytes');
      COMMENT ON LARGE OBJECT 4242 IS 'a comment';
      ANALYZE;`),
  );
  // on the target database too (every user may create in its public schema on 12)
  await withClient(cluster.url('shop_copy2'), (c) =>
    c.query(`CREATE TABLE public.planted_log (fn text, ran_as text); GRANT INSERT ON public.planted_log TO PUBLIC`),
  );
  for (const db of ['shop', 'shop_copy2'])
    await withClient(cluster.url(db, 'mallory', 'mallory-pw'), (c) => c.query(betterOverloads + exactCopies));
  // mallory has no rights but PostgreSQL 12's default CREATE on public
  await withClient(cluster.url('shop', 'mallory', 'mallory-pw'), (c) =>
    c.query(
      plant('pg_relation_size', 'bigint', 'pg_catalog.pg_relation_size($1::regclass)') +
        plant('pg_total_relation_size', 'bigint', 'pg_catalog.pg_total_relation_size($1::regclass)') +
        `CREATE FUNCTION public.obj_description(oid, text) RETURNS text LANGUAGE sql AS $$
           INSERT INTO public.planted_log VALUES ('obj_description', current_user);
           SELECT pg_catalog.obj_description($1, $2::name) $$;
         CREATE FUNCTION public.pg_partition_ancestors(oid) RETURNS TABLE (relid regclass) LANGUAGE sql AS $$
           INSERT INTO public.planted_log VALUES ('pg_partition_ancestors', current_user);
           SELECT * FROM pg_catalog.pg_partition_ancestors($1::regclass) $$;`,
    ),
  );
});

after(async () => {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

// A planted function with pg_catalog's own signature, logging and then answering as pg_catalog's:
// it is picked only on a search_path that lists pg_catalog after public.
const copy = (fn: string, args: string[], ret: string) => `
  CREATE FUNCTION public.${fn}(${args.join(', ')}) RETURNS ${ret} LANGUAGE sql AS $$
    INSERT INTO public.planted_log VALUES ('${fn}', current_user);
    SELECT pg_catalog.${fn}(${args.map((_, i) => `$${i + 1}`).join(', ')}) $$;`;

/** Overloads that beat pg_catalog's whatever the path, for a name argument (pg_catalog's take text). */
const betterOverloads = `
  CREATE FUNCTION public.quote_ident(name) RETURNS text LANGUAGE sql AS $$
    INSERT INTO public.planted_log VALUES ('quote_ident', current_user); SELECT pg_catalog.quote_ident($1::text) $$;
  CREATE FUNCTION public.has_database_privilege(name, text) RETURNS boolean LANGUAGE sql AS $$
    INSERT INTO public.planted_log VALUES ('has_database_privilege', current_user);
    SELECT pg_catalog.has_database_privilege($1::text, $2) $$;`;

/** The built-ins pgferry calls in ping, precheck, migrate and verify (oid, regclass, text arguments). */
const exactCopies =
  [
    copy('current_setting', ['text'], 'text'),
    copy('pg_backend_pid', [], 'integer'),
    copy('current_database', [], 'name'),
    copy('pg_get_userbyid', ['oid'], 'name'),
    copy('format_type', ['oid', 'integer'], 'text'),
    copy('to_regclass', ['text'], 'regclass'),
    copy('has_table_privilege', ['oid', 'text'], 'boolean'),
    copy('has_schema_privilege', ['oid', 'text'], 'boolean'),
    copy('has_sequence_privilege', ['oid', 'text'], 'boolean'),
    copy('pg_has_role', ['oid', 'text'], 'boolean'),
    copy('pg_encoding_to_char', ['integer'], 'name'),
    copy('md5', ['text'], 'text'),
    copy('hashtextextended', ['text', 'bigint'], 'bigint'),
    copy('float8send', ['double precision'], 'bytea'),
  ].join('') +
  // read-only transactions cannot log: this one forges its answer instead (every row filtered out)
  `CREATE FUNCTION public.lower(text) RETURNS text LANGUAGE sql AS $$ SELECT 'x'::text $$;`;

/** Run the command line (with the test's state dir); its exit code and output. */
const cli = (...args: string[]) =>
  new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/helpers/cli.ts', ...args, ...(args[0] === 'migrate' ? ['--state-dir', dir] : [])],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code, out }));
  });

const planted = (db = 'shop') =>
  withClient(cluster.url(db), async (c) => (await c.query('SELECT fn, ran_as FROM public.planted_log')).rows);

test("the object picker, run by a superuser, calls pg_catalog's size functions, not the planted ones", async () => {
  const schemas = await withSession(
    resolveConnSpec(cluster.url('shop')),
    { label: 'catalog', role: 'catalog' },
    readCatalog,
  );
  const pub = schemas.find((s) => s.name === 'public')!;
  const items = pub.tables.find((t) => t.name === 'items')!;
  assert.equal(items.rowEstimate, 500);
  assert.equal(pub.tables.find((t) => t.name === 'parted')!.rowEstimate, 10);
  assert.deepEqual(await planted(), []);
});

test("a migration with least-privilege accounts calls pg_catalog's functions, not the planted ones", async () => {
  const source = await sourceAccount(cluster, 'shop', 'sp_src', 'Sp-src-pw-1', ['public']);
  await withClient(cluster.url('shop'), (c) => c.query('GRANT SELECT ON LARGE OBJECT 4242 TO sp_src'));
  const target = await targetAccount(cluster, 'shop_copy', 'sp_tgt', 'Sp-tgt-pw-2');
  const r = await cli('migrate', '-s', source, '-t', target, '--name', 'sp', '--no-owner', '--no-acl');
  assert.equal(r.code, 0, r.out);
  assert.deepEqual(await planted(), []);
  // the whole database came over, the planted functions too: none of them ran on the target either
  assert.deepEqual(await tableHashes(target), await tableHashes(cluster.url('shop')));
  const lo = await withClient(target, (c) =>
    c.query(`SELECT pg_catalog.obj_description(4242, 'pg_largeobject') AS comment, lo_get(4242) AS data`),
  );
  assert.deepEqual(lo.rows, [{ comment: 'a comment', data: Buffer.from('large object bytes') }]);
});

test("the PostgreSQL task store calls pg_catalog's obj_description, not the planted one", async () => {
  /** A store of its own (a host of its own), used once and closed. */
  const withStore = async <T>(fn: (s: PgTaskStore) => Promise<T>): Promise<T> => {
    const store = new PgTaskStore(cluster.url('shop'), 'sp_store');
    try {
      return await fn(store);
    } finally {
      await store.close();
    }
  };
  await withStore((s) => s.create('t1', { status: 'created' }));
  // the second store opens a schema that exists: it reads the schema's marker comment
  assert.equal((await withStore((s) => s.get('t1')))?.status, 'created');
  assert.deepEqual(await planted(), []);
});

test('a session is set up in one round trip: search_path empty, the one it started with remembered', async () => {
  const spec = resolveConnSpec(cluster.url('shop'));
  const sent: unknown[] = [];
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...a: unknown[]) {
    sent.push(a[0]);
    return (query as (...x: unknown[]) => unknown).apply(this, a);
  } as typeof query;
  let c: pg.Client;
  try {
    c = await connect(spec, { label: 'source' });
  } finally {
    pg.Client.prototype.query = query;
  }
  const path = async () => (await c.query(`SELECT pg_catalog.current_setting('search_path') AS p`)).rows[0].p;
  try {
    // one statement text (several statements in one simple-protocol message): one round trip, as before
    assert.equal(sent.length, 1);
    assert.equal(startPath(c), '"$user", public');
    const r = await c.query(`SELECT pg_catalog.current_setting('search_path') AS p, current_schemas(true) AS s`);
    assert.deepEqual(r.rows, [{ p: '', s: '{pg_catalog}' }]);
    // a row filter's statements: the starting path inside, the empty one after, in a transaction of its own ...
    assert.equal(await withStartPath(c, path), '"$user", public');
    assert.equal(await path(), '');
    assert.equal(c.getTransactionStatus(), 'I');
    // ... or in the caller's, which goes on
    await c.query('BEGIN');
    assert.equal(await withStartPath(c, path), '"$user", public');
    assert.equal(await path(), '');
    assert.equal(c.getTransactionStatus(), 'T');
    await c.query('COMMIT');
  } finally {
    await c.end();
  }
  // a path given in the connection string's options is the one a row filter gets
  const withOptions = resolveConnSpec(`${cluster.url('shop')}&options=-csearch_path%3Dmine`);
  await withSession(withOptions, { label: 'source' }, async (x) => assert.equal(startPath(x), 'mine'));
});

test('a role whose path lists pg_catalog after public: ping, precheck, migrate with a row filter and verify run none of the planted functions', async () => {
  const source = await sourceAccount(cluster, 'shop', 'sp_src2', 'Sp-src2-pw-3', ['public']);
  await withClient(cluster.url('shop'), (c) =>
    // the row filter's function lives in the role's own schema ("$user" on its path)
    c.query(`CREATE SCHEMA sp_src2;
      CREATE FUNCTION sp_src2.keep(int) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT $1 % 3 <> 0';
      GRANT USAGE ON SCHEMA sp_src2 TO sp_src2;
      ALTER ROLE sp_src2 SET search_path = "$user", public, pg_catalog;`),
  );
  await withClient(cluster.url(), (c) =>
    c.query(`CREATE ROLE sp_tgt2 LOGIN PASSWORD 'Sp-tgt2-pw-4';
      ALTER DATABASE shop_copy2 OWNER TO sp_tgt2;
      ALTER ROLE sp_tgt2 SET search_path = "$user", public, pg_catalog;`),
  );
  const target = cluster.url('shop_copy2', 'sp_tgt2', 'Sp-tgt2-pw-4');
  const task = join(dir, 'tagged.yaml');
  writeFileSync(task, 'tables:\n  public.tagged:\n    where: "keep(id) AND score > 2"\n');
  const pair = ['-s', source, '-t', target];
  const only = ['--task', task, '--include-table', 'public.tagged'];
  const noOwners = ['--no-owner', '--no-acl'];

  const ping = await cli('ping', ...pair, '--json');
  assert.equal(ping.code, 0, ping.out);
  const pre = await cli('precheck', ...pair, ...only, ...noOwners);
  assert.equal(pre.code, 0, pre.out);
  const mig = await cli('migrate', ...pair, ...only, ...noOwners, '--name', 'sp2', '--verify', 'hash');
  assert.equal(mig.code, 0, mig.out);
  for (const mode of ['count', 'hash']) {
    const v = await cli('verify', ...pair, ...only, '--mode', mode);
    assert.equal(v.code, 0, `${mode}: ${v.out}`);
  }
  assert.deepEqual(await planted('shop'), []);
  assert.deepEqual(await planted('shop_copy2'), []);
  // the filter ran as written, with the role's own function: ids 9..100 that are not multiples of 3; the
  // regclass values (printed on the filter's path, read back on the same) name the target's table
  const rows = await withClient(
    cluster.url('shop_copy2'),
    async (c) =>
      (
        await c.query(`SELECT pg_catalog.count(*)::int AS n, pg_catalog.min(id) AS lo,
          pg_catalog.bool_and(r = 'public.tagged'::regclass) AS r FROM public.tagged`)
      ).rows[0],
  );
  assert.deepEqual(rows, { n: 61, lo: 10, r: true });
});

test("a row filter resolves on the role's own search_path: a planted built-in runs only when that path puts public before pg_catalog", async () => {
  const target = cluster.url('shop_copy2', 'sp_tgt2', 'Sp-tgt2-pw-4');
  const task = join(dir, 'lower.yaml');
  writeFileSync(task, 'tables:\n  public.tagged:\n    where: "keep(id) AND score > 2 AND lower(code) <> \'x\'"\n');
  const args = ['--task', task, '--mode', 'count', '--include-table', 'public.tagged'];
  // the role's path ("$user", public, pg_catalog) finds public.lower(text) before pg_catalog's: as in psql for that role
  // (its forged answer filters every row out: 0 source rows against the 61 copied)
  const own = await cli('verify', '-s', cluster.url('shop', 'sp_src2', 'Sp-src2-pw-3'), '-t', target, ...args);
  assert.equal(own.code, 5, own.out);
  assert.match(own.out, /source 0, target 61/);
  // a path without public (given in the connection string): pg_catalog's lower, and keep from "$user"
  const src = `${cluster.url('shop', 'sp_src2', 'Sp-src2-pw-3')}&options=-csearch_path%3D%22%24user%22`;
  const safe = await cli('verify', '-s', src, '-t', target, ...args);
  assert.equal(safe.code, 0, safe.out);
});

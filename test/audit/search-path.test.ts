// A source on PostgreSQL 12, where every user may create objects in schema public (the default
// before 15): a user plants public.pg_relation_size(oid) and friends, which PostgreSQL prefers over
// pg_catalog's (regclass) for an oid argument, so that a query calling pg_relation_size(c.oid) runs
// the planted function with the rights of whoever runs the query (CVE-2018-1058's pattern). The object
// picker, a migration (large objects included) and the PostgreSQL task store must call pg_catalog's
// functions, never the planted ones (obj_description(oid, text) wins over pg_catalog's (oid, name) for a
// quoted literal).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { withClient as withSession } from '../../src/pg/connect.js';
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
    hba: ['host all sp_src,sp_tgt,mallory 127.0.0.1/32 md5'] /* 12 stores md5 */,
  });
  await withClient(cluster.url(), async (c) => {
    await c.query(`CREATE ROLE mallory LOGIN PASSWORD 'mallory-pw'`);
    await c.query('CREATE DATABASE shop');
  });
  await withClient(cluster.url('shop'), (c) =>
    c.query(`CREATE TABLE public.planted_log (fn text, ran_as text);
      GRANT INSERT ON public.planted_log TO PUBLIC;
      CREATE TABLE public.items (id int PRIMARY KEY, note text);
      INSERT INTO public.items SELECT g, 'n' || g FROM generate_series(1, 500) g;
      CREATE TABLE public.parted (id int) PARTITION BY RANGE (id);
      CREATE TABLE public.parted_1 PARTITION OF public.parted FOR VALUES FROM (0) TO (1000);
      INSERT INTO public.parted SELECT generate_series(1, 10);
      SELECT lo_from_bytea(4242, 'large object bytes');
      COMMENT ON LARGE OBJECT 4242 IS 'a comment';
      ANALYZE;`),
  );
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

const planted = () =>
  withClient(cluster.url('shop'), async (c) => (await c.query('SELECT fn, ran_as FROM public.planted_log')).rows);

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
  const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(
      process.execPath,
      [
        ...['--import', 'tsx', 'test/helpers/cli.ts', 'migrate', '-s', source, '-t', target, '--name', 'sp'],
        ...['--state-dir', dir, '--no-owner', '--no-acl'],
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code, out }));
  });
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

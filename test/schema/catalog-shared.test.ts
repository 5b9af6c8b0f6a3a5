// The catalog model keeps lists that recur table after table once: tables granted alike share one
// frozen ACL (20,000 tables granted SELECT to one reader held 160,000 ACL entries, 7 MB), key columns
// and index column lists are shared too, and the DDL read from them is unchanged. The read also
// leaves the session's jit and search_path as it found them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { introspect } from '../../src/stages/schema/catalog/introspect.js';
import { generateDdl } from '../../src/stages/schema/ddl/generate.js';
import { Selection } from '../../src/core/selection.js';
import { withClient } from '../helpers/compare.js';
import { task } from './helpers.js';

let pgc: Cluster;

before(async () => {
  pgc = await startCluster({ version: 15, name: 'pgferry-catshared' });
  await withClient(pgc.url(), (c) => c.query('CREATE DATABASE cs_src'));
  await withClient(pgc.url('cs_src'), (c) =>
    c.query(`CREATE ROLE cs_reader;
      CREATE TABLE public.a (id int PRIMARY KEY, n int);
      CREATE TABLE public.b (id int PRIMARY KEY, n int);
      CREATE TABLE public.c (id int PRIMARY KEY, n int);
      CREATE INDEX a_n ON public.a (n);
      CREATE INDEX b_n ON public.b (n);
      GRANT SELECT ON public.a, public.b TO cs_reader;
      GRANT SELECT (n) ON public.a, public.b TO PUBLIC;
      GRANT UPDATE ON public.c TO cs_reader`),
  );
});
after(async () => {
  await withClient(pgc.url(), (c) => c.query('DROP DATABASE IF EXISTS cs_src')).catch(() => {});
  await withClient(pgc.url(), (c) => c.query('DROP ROLE IF EXISTS cs_reader')).catch(() => {});
  await pgc?.stop();
});

test('catalog read: tables granted alike share one frozen ACL, key and index column lists; DDL as granted', async () => {
  const m = await withClient(pgc.url('cs_src'), async (c) => {
    await c.query(`SET jit = on; SET search_path = public, pg_catalog`);
    const model = await introspect(c);
    const s = await c.query<{ jit: string; sp: string }>(
      `SELECT current_setting('jit') AS jit, current_setting('search_path') AS sp`,
    );
    assert.deepEqual(s.rows[0], { jit: 'on', sp: 'public, pg_catalog' });
    return model;
  });
  const [a, b, c] = ['a', 'b', 'c'].map((n) => m.tables.find((t) => t.name === n)!);
  assert.ok(a.acl && a.acl.length > 1);
  assert.equal(a.acl, b.acl, 'tables a and b have the same grants: one ACL list');
  assert.notEqual(a.acl, c.acl);
  assert.ok(c.acl!.some((x) => x.grantee === 'cs_reader' && x.privilege === 'UPDATE'));
  assert.ok(!c.acl!.some((x) => x.grantee === 'cs_reader' && x.privilege === 'SELECT'));
  assert.ok(Object.isFrozen(a.acl) && Object.isFrozen(a.acl![0]));
  // column ACLs too: n of a and n of b were granted alike
  const colN = (t: typeof a) => t.columns.find((x) => x.name === 'n')!;
  assert.ok(colN(a).acl?.some((x) => x.grantee === '' && x.privilege === 'SELECT'));
  assert.equal(colN(a).acl, colN(b).acl);
  const [fa, fb] = ['a', 'b'].map((n) => m.facts.relations.find((r) => r.name === n)!);
  assert.equal(fa.acl, fb.acl);
  assert.equal(fa.pkColumns, fb.pkColumns);
  assert.deepEqual(fa.pkColumns, ['id']);
  const [ia, ib] = ['a_n', 'b_n'].map((n) => m.indexes.find((i) => i.name === n)!);
  assert.equal(ia.columns, ib.columns);
  assert.deepEqual(ia.columns, [2]);
  // the generated DDL grants what each table has
  const sql = generateDdl(m, new Selection(task({ source: pgc.url('cs_src') })))
    .statements.map((s) => s.sql)
    .join('\n');
  assert.match(sql, /GRANT SELECT ON TABLE public\.a TO cs_reader;/);
  assert.match(sql, /GRANT SELECT ON TABLE public\.b TO cs_reader;/);
  assert.match(sql, /GRANT UPDATE ON TABLE public\.c TO cs_reader;/);
  assert.match(sql, /GRANT SELECT\s*\(n\) ON TABLE public\.b TO PUBLIC;/);
});

/**
 * columns.oid-types on real servers: selected columns of type oid or reg* (directly, through a
 * domain or an array) are a warning naming each column; a column subset leaving them out passes.
 * The source account is a plain login with CONNECT/USAGE/SELECT only.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { runPrecheck } from '../../src/stages/precheck/index.js';
import { validateTask } from '../../src/core/config.js';
import { sql } from '../copy/helpers.js';

let src: Cluster;
let tgt: Cluster;

before(async () => {
  [src, tgt] = await Promise.all([
    startCluster({ version: 15, name: 'pgferry-oidcols' }),
    startCluster({ version: 17, name: 'pgferry-oidcols' }),
  ]);
  await sql(src.url(), `CREATE DATABASE s`);
  await sql(src.url(), `CREATE ROLE oid_reader LOGIN PASSWORD 'r3ader-secret'`);
  await sql(
    src.url('s'),
    `
    CREATE DOMAIN rc AS regclass;
    CREATE TABLE refs (id int PRIMARY KEY, o oid, c regclass, fns regprocedure[], d rc, note text);
    CREATE TABLE clean (id int PRIMARY KEY, note text);
    GRANT CONNECT ON DATABASE s TO oid_reader;
    GRANT USAGE ON SCHEMA public TO oid_reader;
    GRANT SELECT ON ALL TABLES IN SCHEMA public TO oid_reader;`,
  );
  await sql(tgt.url(), `CREATE DATABASE t`);
});

after(async () => {
  await Promise.all([src?.stop(), tgt?.stop()]);
});

const source = () => src.url('s', 'oid_reader', 'r3ader-secret');

test('columns.oid-types: oid and reg* columns (via domain and array) are a warning, each column named', async () => {
  const r = await runPrecheck(validateTask({ source: source(), target: tgt.url('t') }));
  const i = r.items.find((x) => x.id === 'columns.oid-types');
  assert.ok(i, 'item present');
  assert.equal(i.result, 'warning', JSON.stringify(i));
  assert.equal(i.severity, 'warning');
  assert.deepEqual(i.objects, [
    'public.refs.c (regclass)',
    'public.refs.d (public.rc)', // type names print qualified (sessions run on an empty search_path)
    'public.refs.fns (regprocedure[])',
    'public.refs.o (oid)',
  ]);
  assert.match(i.hint ?? '', /must exist there/);
  assert.ok(!JSON.stringify(r).includes('r3ader-secret'), 'no password in the report');
});

test('columns.oid-types: a column subset without those columns passes', async () => {
  const tables = { 'public.refs': { columns: ['id', 'note'] } };
  const r = await runPrecheck(validateTask({ source: source(), target: tgt.url('t'), tables }));
  const i = r.items.find((x) => x.id === 'columns.oid-types')!;
  assert.equal(i.result, 'passed', JSON.stringify(i));
});

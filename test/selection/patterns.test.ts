// Selections that match nothing, task-file options that apply to nothing, conflicting flags (15 → 15).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { assertUntouched, cleanup, cli, createRoles, migrate, objectsOf, pair, sql, taskFile } from './helpers.js';

let cl: Cluster;
before(async () => {
  cl = await startCluster({ version: 15, name: 'pgferry-selection' });
  await createRoles(cl);
});
after(async () => {
  await cl?.stop();
  cleanup();
});

const USERS = `
CREATE TABLE public."Users" (id int PRIMARY KEY, name text);
CREATE TABLE public.orders (id int PRIMARY KEY, note text);
INSERT INTO public."Users" VALUES (1, 'a'), (2, 'b'), (3, 'c');
INSERT INTO public.orders VALUES (1, 'x');`;

test('an include pattern that matches nothing stops migrate before any write, suggesting the quoted name', async () => {
  const p = await pair(cl, USERS);
  const r = await migrate(p, '--include-table', 'public.Users');
  assert.equal(r.code, 4, r.stderr);
  assert.match(
    r.stderr,
    /--include-table public\.Users: no table public\.users on the source; did you mean 'public\."Users"'\?/,
  );
  await assertUntouched(p.tgtSuper);

  const s = await migrate(p, '--include-schema', 'Public');
  assert.equal(s.code, 4, s.stderr);
  assert.match(s.stderr, /--include-schema Public: no schema of that name on the source; did you mean public\?/);
  await assertUntouched(p.tgtSuper);

  const typo = await migrate(p, '--include-table', 'public.ordres');
  assert.equal(typo.code, 4);
  assert.match(typo.stderr, /did you mean 'public\.orders'\?/);

  const plan = await cli(['plan', '-s', p.src, '--include-table', 'public.Users']);
  assert.equal(plan.code, 4, plan.stdout + plan.stderr);
  assert.match(plan.stdout, /ERROR selection\.matches: .*did you mean 'public\."Users"'/);
  await assertUntouched(p.tgtSuper);

  const ok = await migrate(p, '--include-table', 'public."Users"');
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual((await sql(p.tgtSuper, `SELECT count(*)::int AS n FROM public."Users"`)).rows[0].n, 3);
  assert.ok(!(await objectsOf(p.tgtSuper)).includes('rel r public.orders'));
});

test('an exclude pattern matching nothing, and an include matching only excluded tables, are errors too', async () => {
  const p = await pair(cl, USERS);
  const base = ['precheck', '-s', p.src, '-t', p.tgt, '--no-owner', '--no-acl'];
  const r = await cli([...base, '--exclude-table', 'public.ordrs']);
  assert.equal(r.code, 4);
  assert.match(
    r.stdout,
    /--exclude-table public\.ordrs: no table public\.ordrs on the source; did you mean 'public\.orders'\?/,
  );
  const both = await cli([...base, '--include-table', 'public.o*', '--exclude-table', 'public.orders']);
  assert.equal(both.code, 4);
  assert.match(both.stdout, /--include-table public\.o\*: every table it matches \(public\.orders\) is excluded/);
});

test('task-file tables: entries for tables that are not selected or do not exist are errors', async () => {
  const p = await pair(cl, USERS);
  const bad = taskFile(
    'bad.yaml',
    `source: ${p.src}\ntarget: ${p.tgt}\nnoOwner: true\nnoAcl: true\n` +
      'tables:\n  public.ordrs:\n    where: "id > 0"\n' +
      '  public.orders:\n    columns: [id]\n    columnMap: { note: remark }\n',
  );
  const r = await cli(['migrate', '--task', bad, '--json']);
  assert.equal(r.code, 4, r.stderr);
  const pc = await cli(['precheck', '--task', bad]);
  assert.match(
    pc.stdout,
    /tables\.public\.ordrs: options for a table that does not exist on the source; did you mean public\.orders\?/,
  );
  assert.match(pc.stdout, /tables\.public\.orders\.columnMap: column note is left out by its columns list/);
  const excluded = await cli(['precheck', '--task', bad, '--exclude-table', 'public.orders']);
  assert.match(excluded.stdout, /tables\.public\.orders: options for a table that is not selected/);
  await assertUntouched(p.tgtSuper);
});

test('options of a partitioned table (where, columnMap) apply to its partitions', async () => {
  const p = await pair(
    cl,
    `
    CREATE TABLE public.m (id int, v int, note text) PARTITION BY RANGE (id);
    CREATE TABLE public.m_1 PARTITION OF public.m FOR VALUES FROM (0) TO (100);
    CREATE TABLE public.m_2 PARTITION OF public.m FOR VALUES FROM (100) TO (200);
    CREATE INDEX ON public.m (note);
    INSERT INTO public.m SELECT g, g % 10, 'n' || g FROM generate_series(0, 199) g;`,
  );
  const good = taskFile(
    'good.yaml',
    `source: ${p.src}\ntarget: ${p.tgt}\n` +
      'noOwner: true\nnoAcl: true\nincludeSchemas: [public]\n' +
      `tables:\n  public.m:\n    where: "v < 3"\n    columnMap: { note: remark }\n`,
  );
  const ok = await cli(['migrate', '--task', good, '--json', '--verify', 'hash']);
  assert.equal(ok.code, 0, ok.stderr + ok.stdout.slice(-2000));
  const rows = await sql(
    p.tgtSuper,
    `SELECT count(*)::int AS n, count(*) FILTER (WHERE v >= 3)::int AS bad, count(remark)::int AS r FROM public.m`,
  );
  assert.deepEqual(rows.rows[0], { n: 60, bad: 0, r: 60 });
  const leaves = await sql(p.tgtSuper, `SELECT count(*)::int AS n FROM public.m_2`);
  assert.equal(leaves.rows[0].n, 30);
  // excluding one partition of a selected partitioned table would silently do nothing
  const one = await cli(['plan', '-s', p.src, '--exclude-table', 'public.m_1']);
  assert.equal(one.code, 4, one.stdout);
  assert.match(one.stdout, /--exclude-table public\.m_1: public\.m_1 is a partition of public\.m, which is selected/);
});

test('conflicting flags are usage errors', async () => {
  const p = await pair(cl, USERS);
  for (const flags of [
    ['--map-schema', 'public=b', '--map-schema', 'public=c'],
    ['--include-table', 'public.orders', '--exclude-table', 'PUBLIC.ORDERS'],
    ['--include-schema', 'public', '--exclude-schema', 'public'],
  ]) {
    const r = await cli(['plan', '-s', p.src, ...flags]);
    assert.equal(r.code, 2, `${flags.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /map one schema twice|both included and excluded/);
    assert.match(r.stderr, /fix: /);
  }
});

test('two schemas mapped onto one: plan and precheck report the same clashing tables and types', async () => {
  const p = await pair(
    cl,
    `
    CREATE SCHEMA a; CREATE SCHEMA b;
    CREATE TYPE a.mood AS ENUM ('x'); CREATE TYPE b.mood AS ENUM ('y');
    CREATE TABLE a.t (id int PRIMARY KEY, m a.mood); CREATE TABLE b.t (id int PRIMARY KEY, m b.mood);
    CREATE TABLE b.only_b (id int PRIMARY KEY);`,
  );
  const flags = ['--include-schema', 'a', '--include-schema', 'b', '--map-schema', 'a=c', '--map-schema', 'b=c'];
  const plan = await cli(['plan', '-s', p.src, ...flags]);
  const pre = await cli(['precheck', '-s', p.src, '-t', p.tgt, ...flags]);
  assert.equal(plan.code, 4, plan.stderr);
  assert.equal(pre.code, 4, pre.stderr);
  for (const out of [plan.stdout, pre.stdout]) {
    assert.match(out, /a\.t, b\.t all map to c\.t/);
    assert.match(out, /type a\.mood, type b\.mood all become c\.mood on the target/);
  }
  await assertUntouched(p.tgtSuper);
});

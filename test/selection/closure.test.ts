// --include-table creates what the tables need and nothing else; a lone partition; trigger functions
// outside the selection (15 → 15, read-only source account, non-superuser target owner).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { assertUntouched, cleanup, cli, createRoles, migrate, objectsOf, pair, sql, taskFile } from './helpers.js';

let cl: Cluster;
before(async () => {
  cl = await startCluster({ version: 15, name: 'pgferry-closure' });
  await createRoles(cl);
});
after(async () => {
  await cl?.stop();
  cleanup();
});

const APP = `
CREATE SCHEMA app; CREATE SCHEMA lib; CREATE SCHEMA other;
CREATE TYPE lib.mood AS ENUM ('ok', 'sad');
CREATE DOMAIN lib.zip AS text CHECK (VALUE ~ '^[0-9]+$');
CREATE TYPE lib.address AS (street text, zip lib.zip);
CREATE TYPE lib.unused AS ENUM ('x');
CREATE FUNCTION lib.pos(int) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT $1 > 0';
CREATE FUNCTION lib.dbl(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1 * 2';
CREATE FUNCTION lib.unused_fn() RETURNS int LANGUAGE sql AS 'SELECT 1';
CREATE FUNCTION lib.label() RETURNS text LANGUAGE sql AS $$SELECT 't'::text$$;
CREATE FUNCTION lib.stamp() RETURNS trigger LANGUAGE plpgsql SET search_path = lib
  AS 'BEGIN NEW.note := coalesce(NEW.note, label()); RETURN NEW; END';
CREATE SEQUENCE app.ticket;
CREATE SEQUENCE app.unused_seq;
CREATE TABLE app.t (
  id serial PRIMARY KEY, ticket bigint DEFAULT nextval('app.ticket'), mood lib.mood, addr lib.address,
  n int CHECK (lib.pos(n)), g int GENERATED ALWAYS AS (lib.dbl(n)) STORED, note text);
CREATE INDEX t_note ON app.t (note);
CREATE TRIGGER t_stamp BEFORE INSERT ON app.t FOR EACH ROW EXECUTE FUNCTION lib.stamp();
ALTER TABLE app.t ENABLE ROW LEVEL SECURITY;
CREATE POLICY p_ok ON app.t USING (n > 0);
COMMENT ON TABLE app.t IS 'the table';
CREATE TABLE app.unrelated (id int PRIMARY KEY, m lib.mood);
CREATE VIEW app.v AS SELECT id FROM app.t;
CREATE TABLE other.x (id int PRIMARY KEY);
CREATE FUNCTION other.myabs(int) RETURNS int LANGUAGE internal IMMUTABLE STRICT AS 'int4abs';
INSERT INTO app.t (mood, addr, n)
  SELECT 'ok', ROW('main', '123'::lib.zip)::lib.address, g FROM generate_series(1, 50) g;`;

test('--include-table creates only the tables and what they use (types of types, sequences, functions)', async () => {
  const p = await pair(cl, APP);
  const plan = await cli(['plan', '-s', p.src, '--include-table', 'app.t', '--json']);
  assert.equal(plan.code, 0, plan.stderr);
  // only the source account's own grants are reported (they are never carried); nothing else
  const notMigrated = JSON.parse(plan.stdout).notMigrated as { kind: string; name: string }[];
  assert.ok(
    notMigrated.every((n) => n.kind === 'grant' && n.name.endsWith(' to sel_reader')),
    JSON.stringify(notMigrated),
  );
  assert.ok(
    !notMigrated.some((n) => /unrelated|other\.|app\.v\b/.test(n.name)),
    'objects the table does not need are no concern',
  );
  const r = await migrate(p, '--include-table', 'app.t');
  assert.equal(r.code, 0, r.stderr + r.stdout.slice(-3000));
  assert.deepEqual(await objectsOf(p.tgtSuper), [
    'function lib.dbl(integer)',
    'function lib.label()',
    'function lib.pos(integer)',
    'function lib.stamp()',
    'rel S app.t_id_seq',
    'rel S app.ticket',
    'rel i app.t_note',
    'rel i app.t_pkey',
    'rel r app.t',
    'schema app',
    'schema lib',
    'schema public',
    'trigger t_stamp on app.t',
    'type c lib.address',
    'type d lib.zip',
    'type e lib.mood',
  ]);
  const t = await sql(
    p.tgtSuper,
    `SELECT count(*)::int AS n, sum(g)::int AS g,
    (SELECT count(*) FROM pg_policy WHERE polname = 'p_ok')::int AS policies,
    obj_description('app.t'::regclass, 'pg_class') AS comment FROM app.t`,
  );
  assert.deepEqual(t.rows[0], { n: 50, g: 2550, policies: 1, comment: 'the table' });
  // the whole schema still keeps everything in it
  const q = await pair(cl, APP);
  const w = await migrate(q, '--include-schema', 'app', '--include-schema', 'lib');
  assert.equal(w.code, 0, w.stderr);
  const all = await objectsOf(q.tgtSuper);
  const others = [
    'rel r app.unrelated',
    'rel v app.v',
    'rel S app.unused_seq',
    'type e lib.unused',
    'function lib.unused_fn()',
  ];
  for (const o of others) {
    assert.ok(all.includes(o), `${o} missing: ${all.join(', ')}`);
  }
});

test('a single partition is copied as a plain table of its own, with a note', async () => {
  const p = await pair(
    cl,
    `
    CREATE TABLE public.measurement (id int, at date NOT NULL, v numeric CHECK (v >= 0)) PARTITION BY RANGE (at);
    CREATE TABLE public.measurement_2024_01 PARTITION OF public.measurement
      FOR VALUES FROM ('2024-01-01') TO ('2024-02-01');
    CREATE TABLE public.measurement_2024_02 PARTITION OF public.measurement
      FOR VALUES FROM ('2024-02-01') TO ('2024-03-01');
    CREATE TABLE public.measurement_2024_03 PARTITION OF public.measurement
      FOR VALUES FROM ('2024-03-01') TO ('2024-04-01')
      PARTITION BY RANGE (id);
    CREATE TABLE public.measurement_2024_03_a PARTITION OF public.measurement_2024_03 FOR VALUES FROM (0) TO (1000);
    ALTER TABLE public.measurement ADD PRIMARY KEY (id, at);
    INSERT INTO public.measurement SELECT g, date '2024-01-01' + g % 59, g FROM generate_series(1, 590) g;`,
  );
  const plan = await cli(['plan', '-s', p.src, '--include-table', 'public.measurement_2024_01', '--json']);
  assert.equal(plan.code, 0, plan.stderr);
  const doc = JSON.parse(plan.stdout);
  assert.deepEqual(
    doc.tables.map((t: { source: { name: string } }) => t.source.name),
    ['measurement_2024_01'],
  );
  const notCopied = doc.notMigrated.filter(
    (n: { kind: string; name: string }) => /measurement/.test(n.name) && n.kind !== 'grant',
  );
  assert.deepEqual(notCopied, []);
  const note = /measurement_2024_01 is a partition of public\.measurement.*plain table/;
  assert.ok(
    doc.warnings.some((w: string) => note.test(w)),
    doc.warnings,
  );

  const r = await migrate(p, '--include-table', 'public.measurement_2024_01');
  assert.equal(r.code, 0, r.stderr + r.stdout.slice(-3000));
  const t = await sql(
    p.tgtSuper,
    `SELECT c.relispartition AS part,
    (SELECT count(*)::int FROM public.measurement_2024_01) AS n,
    (SELECT count(*)::int FROM pg_constraint WHERE conrelid = c.oid AND contype IN ('p', 'c')) AS cons,
    to_regclass('public.measurement') IS NULL AS no_parent
    FROM pg_class c WHERE c.oid = 'public.measurement_2024_01'::regclass`,
  );
  assert.deepEqual(t.rows[0], { part: false, n: 310, cons: 2, no_parent: true });

  // a partition that has partitions of its own cannot go alone: precheck says what to select instead
  const sub = await cli(['plan', '-s', p.src, '--include-table', 'public.measurement_2024_03']);
  assert.equal(sub.code, 4, sub.stdout + sub.stderr);
  assert.match(
    sub.stdout,
    /public\.measurement_2024_03 is a partitioned partition of public\.measurement; .*select public\.measurement, or/,
  );
});

const AUDIT = `
CREATE SCHEMA app; CREATE SCHEMA audit;
CREATE TABLE audit.log (at timestamptz DEFAULT now(), what text);
CREATE FUNCTION audit.record() RETURNS trigger LANGUAGE plpgsql
  AS 'BEGIN INSERT INTO audit.log (what) VALUES (TG_OP); RETURN NEW; END';
CREATE TABLE app.t (id int PRIMARY KEY);
CREATE TRIGGER t_audit AFTER INSERT ON app.t FOR EACH ROW EXECUTE FUNCTION audit.record();
INSERT INTO app.t SELECT generate_series(1, 10);`;

test('a trigger whose function is outside the selection stops migrate before writing; --exclude-trigger omits it', async () => {
  const p = await pair(cl, AUDIT);
  const r = await migrate(p, '--include-schema', 'app');
  assert.equal(r.code, 4, r.stderr + r.stdout.slice(-2000));
  assert.match(r.stderr, /integrity\.trigger-functions: .*app\.t trigger t_audit executes audit\.record\(\)/);
  await assertUntouched(p.tgtSuper);
  const pc = await cli(['precheck', '-s', p.src, '-t', p.tgt, '--include-schema', 'app', '--no-owner', '--no-acl']);
  assert.equal(pc.code, 4);
  assert.match(pc.stdout, /app\.t trigger t_audit executes audit\.record\(\) \(schema audit not selected\)/);
  assert.match(pc.stdout, /--include-schema audit/);
  assert.match(pc.stdout, /--exclude-trigger app\.t\.t_audit/);
  const plan = await cli(['plan', '-s', p.src, '--include-schema', 'app']);
  assert.equal(plan.code, 4);
  assert.match(plan.stdout, /ERROR integrity\.trigger-functions/);

  const typo = await cli([
    'precheck',
    '-s',
    p.src,
    '-t',
    p.tgt,
    '--include-schema',
    'app',
    '--exclude-trigger',
    'app.t.t_adit',
    '--no-owner',
    '--no-acl',
  ]);
  assert.equal(typo.code, 4);
  assert.match(
    typo.stdout,
    /--exclude-trigger app\.t\.t_adit: no trigger t_adit on app\.t; did you mean app\.t\.t_audit\?/,
  );
  const bad = await cli(['plan', '-s', p.src, '--exclude-trigger', 'app.t']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /expected schema\.table\.trigger/);
  await assertUntouched(p.tgtSuper);

  const ok = await migrate(p, '--include-schema', 'app', '--exclude-trigger', 'app.t.t_audit');
  assert.equal(ok.code, 0, ok.stderr + ok.stdout.slice(-2000));
  assert.deepEqual(await objectsOf(p.tgtSuper), ['rel i app.t_pkey', 'rel r app.t', 'schema app', 'schema public']);

  const q = await pair(cl, AUDIT);
  const file = taskFile(
    'audit.yaml',
    `source: ${q.src}\ntarget: ${q.tgt}\nnoOwner: true\nnoAcl: true\n` +
      `includeSchemas: [app]\nexcludeTriggers: [app.t.t_audit]\n`,
  );
  const viaFile = await cli(['migrate', '--task', file, '--json']);
  assert.equal(viaFile.code, 0, viaFile.stderr);
  assert.ok(!(await objectsOf(q.tgtSuper)).some((o) => o.startsWith('trigger')));
});

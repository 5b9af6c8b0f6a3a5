/**
 * COPY format per table on real servers: values that carry OIDs (reg* types; arrays and
 * composites of non-built-in types into servers before 15) and types without binary I/O go as
 * text and mean the same on the target; the rest goes as binary between equal majors; `copy.format: binary` forces
 * binary only where it is possible. Zero-column tables copy their row count (split, resumed).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { copyData, type CopyResult } from '../../src/stages/data/copy/engine.js';
import { resolveConnSpec } from '../../src/pg/connstring.js';
import { EventBus, type TimedEvent } from '../../src/core/events.js';
import type { CopyTable } from '../../src/stages/data/plan/types.js';
import { buildReport, renderMarkdown } from '../../src/stages/report/index.js';
import { copyDefaults, copyTable, sql, tableDigest } from './helpers.js';

let s15: Cluster;
let t15: Cluster;
let s12: Cluster;
let t17: Cluster;

// Objects the reg* values name; created on the target after padding objects, so every OID
// differs between the two sides.
const OBJECTS = (withCollation: boolean) => `
CREATE SCHEMA fmt_ns;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE pair AS (a int, m mood);
CREATE DOMAIN rc AS regclass;
CREATE TABLE ref_target (id int);
CREATE TABLE fmt_ns.nt (id int);
CREATE FUNCTION fmt_fn(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1';
CREATE OPERATOR === (LEFTARG = int, RIGHTARG = int, FUNCTION = int4eq);
CREATE TEXT SEARCH DICTIONARY fmt_dict (TEMPLATE = simple);
CREATE TEXT SEARCH CONFIGURATION fmt_cfg (COPY = simple);
${withCollation ? `CREATE COLLATION fmt_coll FROM "C";` : ''}
CREATE FUNCTION txtonly_in(cstring) RETURNS txtonly LANGUAGE internal IMMUTABLE STRICT AS 'textin';
CREATE FUNCTION txtonly_out(txtonly) RETURNS cstring LANGUAGE internal IMMUTABLE STRICT AS 'textout';
CREATE TYPE txtonly (INPUT = txtonly_in, OUTPUT = txtonly_out, INTERNALLENGTH = VARIABLE, STORAGE = extended);
`;

const TABLES = (withCollation: boolean) => `
CREATE TABLE regs (id int, c regclass, t regtype, p regproc, pp regprocedure, o regoper, oo regoperator, cfg regconfig,
  d regdictionary, n regnamespace, r regrole${withCollation ? ', coll regcollation' : ''}, ca regclass[], dc rc);
CREATE TABLE enums (id int, m mood, ma mood[], pr pair);
CREATE TABLE txt (id int, v txtonly);
CREATE TABLE nsref (id int, nq regclass);
CREATE TABLE plain (id int, v text, a int[], j jsonb);
CREATE TABLE zero ();
CREATE TABLE zero_big () WITH (autovacuum_enabled = off);
`;

const ROWS = (withCollation: boolean) => `
INSERT INTO regs SELECT g, 'ref_target', 'mood', 'fmt_fn', 'fmt_fn(integer)', '===', '===(integer,integer)', 'fmt_cfg',
  'fmt_dict', 'fmt_ns', 'fmt_role'${withCollation ? `, 'fmt_coll'` : ''},
  ARRAY['ref_target'::regclass, 'pg_class'], 'ref_target'
  FROM generate_series(1, 50) g;
INSERT INTO enums
  SELECT g, (ARRAY['sad','ok','happy']::mood[])[1 + g % 3], ARRAY['ok', 'happy']::mood[], ROW(g, 'sad')::pair
  FROM generate_series(1, 200) g;
INSERT INTO txt SELECT g, ('t' || g)::txtonly FROM generate_series(1, 100) g;
INSERT INTO nsref VALUES (1, 'fmt_ns.nt');
INSERT INTO plain SELECT g, md5(g::text), ARRAY[g, g + 1], jsonb_build_object('g', g) FROM generate_series(1, 1000) g;
INSERT INTO zero DEFAULT VALUES;
INSERT INTO zero DEFAULT VALUES;
INSERT INTO zero DEFAULT VALUES;
INSERT INTO zero_big SELECT FROM generate_series(1, 60000);
ANALYZE;
`;

const PAD = `CREATE TABLE pad1 (a int); CREATE TYPE pad2 AS ENUM ('x');
CREATE FUNCTION pad3() RETURNS int LANGUAGE sql AS 'SELECT 1';`;

async function setup(src: Cluster, tgt: Cluster, withCollation: boolean): Promise<void> {
  await Promise.all([src, tgt].map((c) => sql(c.url(), `CREATE ROLE fmt_role`)));
  await sql(src.url(), `CREATE DATABASE s`);
  await sql(src.url('s'), OBJECTS(withCollation) + TABLES(withCollation) + ROWS(withCollation));
  // sessions on the source see fmt_ns first: a reg* value naming fmt_ns.nt prints as plain "nt" there
  await sql(src.url(), `ALTER DATABASE s SET search_path = fmt_ns, public`);
  await sql(tgt.url(), `CREATE ROLE fmt_pad_role`);
  await sql(tgt.url(), `CREATE DATABASE pad`);
  await sql(tgt.url('pad'), PAD);
}

async function targetDb(tgt: Cluster, db: string, withCollation: boolean): Promise<void> {
  await sql(tgt.url(), `CREATE DATABASE ${db}`);
  await sql(tgt.url(db), PAD + OBJECTS(withCollation) + TABLES(withCollation));
}

before(async () => {
  [s15, t15, s12, t17] = await Promise.all([
    startCluster({ version: 15, name: 'pgferry-fmt' }),
    startCluster({ version: 15, name: 'pgferry-fmt' }),
    startCluster({ version: 12, name: 'pgferry-fmt' }),
    startCluster({ version: 17, name: 'pgferry-fmt' }),
  ]);
  await Promise.all([setup(s15, t15, true), setup(s12, t17, false)]);
});

after(async () => {
  await Promise.all([s15?.stop(), t15?.stop(), s12?.stop(), t17?.stop()]);
});

const col = (name: string, type = 'x') => ({ name, type });
function tables(withCollation: boolean): CopyTable[] {
  const regCols = [
    'id',
    'c',
    't',
    'p',
    'pp',
    'o',
    'oo',
    'cfg',
    'd',
    'n',
    'r',
    ...(withCollation ? ['coll'] : []),
    'ca',
    'dc',
  ];
  return [
    copyTable(
      'public',
      'regs',
      regCols.map((c) => col(c)),
      false,
    ),
    copyTable(
      'public',
      'enums',
      ['id', 'm', 'ma', 'pr'].map((c) => col(c)),
      false,
    ),
    copyTable('public', 'txt', [col('id'), col('v')], false),
    copyTable('public', 'nsref', [col('id'), col('nq')], false),
    copyTable(
      'public',
      'plain',
      ['id', 'v', 'a', 'j'].map((c) => col(c)),
      false,
    ),
    copyTable('public', 'zero', [], false),
    copyTable('public', 'zero_big', [], false),
  ];
}

async function run(
  src: Cluster,
  tgt: Cluster,
  db: string,
  withCollation: boolean,
  format: 'auto' | 'binary',
  as?: { source: string; target: string },
) {
  const events = new EventBus();
  const seen: TimedEvent[] = [];
  events.on((e) => seen.push(e));
  const r = await copyData({
    source: resolveConnSpec(as?.source ?? src.url('s')),
    target: resolveConnSpec(as?.target ?? tgt.url(db)),
    taskId: db,
    tables: tables(withCollation),
    early: [],
    sequences: [],
    jobs: 2,
    indexJobs: 1,
    copy: { ...copyDefaults, format, splitThresholdMB: 0.3, unitMB: 0.3 },
    events,
  });
  return { r, seen };
}

/** Every table's rows, as text on each side (names for reg* values), are the same. */
async function assertSame(src: Cluster, tgt: Cluster, db: string): Promise<void> {
  for (const t of ['regs', 'enums', 'txt', 'plain']) {
    assert.deepEqual(await tableDigest(tgt.url(db), t), await tableDigest(src.url('s'), t), `table ${t}`);
  }
  for (const t of ['zero', 'zero_big']) {
    const q = `SELECT count(*)::int AS n FROM ${t}`;
    const [a, b] = await Promise.all([sql(src.url('s'), q), sql(tgt.url(db), q)]);
    assert.equal(b.rows[0].n, a.rows[0].n, `rows of ${t}`);
  }
  // resolved to the same object on the target, whatever the source session's search_path
  const ns = await sql(tgt.url(db), `SELECT nq = 'fmt_ns.nt'::regclass AS ok FROM nsref`);
  assert.deepEqual(ns.rows, [{ ok: true }]);
}

function formats(r: CopyResult): Record<string, string> {
  return Object.fromEntries(r.tables.map((t) => [t.key, t.format]));
}

test('15 → 15: OID-bearing and text-only types go as text and mean the same; the rest binary', async () => {
  await targetDb(t15, 't_auto', true);
  const { r, seen } = await run(s15, t15, 't_auto', true, 'auto');
  await assertSame(s15, t15, 't_auto');
  assert.equal(r.format, 'binary');
  assert.deepEqual(formats(r), {
    'public.regs': 'text',
    'public.enums': 'binary',
    'public.txt': 'text',
    'public.nsref': 'text',
    'public.plain': 'binary',
    'public.zero': 'binary',
    'public.zero_big': 'binary',
  });
  const names = await sql(
    t15.url('t_auto'),
    `SELECT c::text, t::text, pp::text, oo::text, r::text, coll::text, ca::text, dc::text FROM regs LIMIT 1`,
  );
  assert.deepEqual(names.rows[0], {
    c: 'ref_target',
    t: 'mood',
    pp: 'fmt_fn(integer)',
    oo: '===(integer,integer)',
    r: 'fmt_role',
    coll: 'fmt_coll',
    ca: '{ref_target,pg_class}',
    dc: 'ref_target',
  });
  const why = seen.filter((e) => e.type === 'copy-format');
  assert.deepEqual(
    why.map((e) => e.type === 'copy-format' && [e.table, e.column, e.columnType]),
    [
      ['public.regs', 'c', 'regclass'],
      ['public.txt', 'v', 'public.txtonly'],
      ['public.nsref', 'nq', 'regclass'],
    ],
  );
  const report = buildReport({ taskId: 't_auto', source: s15.url('s'), target: t15.url('t_auto'), events: seen });
  assert.deepEqual(
    report.textTables.map((t) => [t.table, t.column, t.type]),
    [
      ['public.nsref', 'nq', 'regclass'],
      ['public.regs', 'c', 'regclass'],
      ['public.txt', 'v', 'public.txtonly'],
    ],
  );
  assert.match(renderMarkdown(report), /## Copy format[\s\S]*public\.regs: column c \(type regclass\): binary COPY/);
  const zb = r.tables.find((t) => t.key === 'public.zero_big')!;
  assert.ok(zb.units > 1, `zero_big split into ${zb.units} units`);
  assert.equal(zb.rows, 60000);
  // a rerun has nothing left to do and adds no row
  const again = await run(s15, t15, 't_auto', true, 'auto');
  assert.ok(again.r.tables.every((t) => t.skippedUnits === t.units));
  await assertSame(s15, t15, 't_auto');
});

test('15 → 15 with copy.format binary: binary only where possible, and the run says so', async () => {
  await targetDb(t15, 't_bin', true);
  const { r, seen } = await run(s15, t15, 't_bin', true, 'binary');
  assert.equal(formats(r)['public.regs'], 'text');
  assert.equal(formats(r)['public.plain'], 'binary');
  const warn = seen.find((e) => e.type === 'log' && e.level === 'warn' && /copy\.format binary/.test(e.message));
  assert.ok(warn, 'warning about forced binary');
  assert.match(warn.type === 'log' ? warn.message : '', /3 table\(s\) copied as text.*public\.regs.*public\.txt/);
  await assertSame(s15, t15, 't_bin');
});

test('12 → 17: text by default, forced binary where possible; zero-column tables and reg* values', async () => {
  await targetDb(t17, 't_x', false);
  const a = await run(s12, t17, 't_x', false, 'auto');
  assert.equal(a.r.format, 'text');
  assert.ok(a.r.tables.every((t) => t.format === 'text'));
  await assertSame(s12, t17, 't_x');
  await targetDb(t17, 't_xb', false);
  const b = await run(s12, t17, 't_xb', false, 'binary');
  assert.equal(formats(b.r)['public.plain'], 'binary');
  assert.equal(formats(b.r)['public.regs'], 'text');
  assert.equal(formats(b.r)['public.txt'], 'text');
  await assertSame(s12, t17, 't_xb');
});

test('12 → 12: arrays and composites of non-built-in types go as text (the receiver checks their OIDs)', async () => {
  await targetDb(s12, 't_12', false);
  const { r, seen } = await run(s12, s12, 't_12', false, 'auto');
  await assertSame(s12, s12, 't_12');
  assert.equal(r.format, 'binary');
  assert.equal(formats(r)['public.enums'], 'text');
  assert.equal(formats(r)['public.plain'], 'binary');
  const why = seen.find((e) => e.type === 'copy-format' && e.table === 'public.enums');
  assert.ok(
    why && why.type === 'copy-format' && why.column === 'ma' && why.columnType === 'public.mood',
    JSON.stringify(why),
  );
});

test('15 → 15 as a read-only source account and a target account owning the database (no superuser)', async () => {
  await sql(s15.url(), `CREATE ROLE fmt_src LOGIN PASSWORD 'fmt-src-pw'`);
  await sql(
    s15.url('s'),
    `GRANT CONNECT ON DATABASE s TO fmt_src; GRANT USAGE ON SCHEMA public TO fmt_src;
    GRANT SELECT ON ALL TABLES IN SCHEMA public TO fmt_src`,
  );
  await sql(t15.url(), `CREATE ROLE fmt_tgt LOGIN PASSWORD 'fmt-tgt-pw'`);
  await targetDb(t15, 't_lim', true);
  await sql(t15.url(), `ALTER DATABASE t_lim OWNER TO fmt_tgt`);
  // in a migration pgferry's target account creates (so owns) every schema; here the test made them
  await sql(
    t15.url('t_lim'),
    `GRANT USAGE ON SCHEMA public, fmt_ns TO fmt_tgt;
    GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO fmt_tgt`,
  );
  const as = { source: s15.url('s', 'fmt_src', 'fmt-src-pw'), target: t15.url('t_lim', 'fmt_tgt', 'fmt-tgt-pw') };
  const { r, seen } = await run(s15, t15, 't_lim', true, 'auto', as);
  await assertSame(s15, t15, 't_lim');
  assert.equal(formats(r)['public.regs'], 'text');
  assert.equal(formats(r)['public.plain'], 'binary');
  assert.ok(!JSON.stringify(seen).includes('fmt-src-pw') && !JSON.stringify(seen).includes('fmt-tgt-pw'));
});

// The precheck's DDL plan reads the OWNER TO line of a block without the parser when nothing else in
// the block can matter; its owner changes must be exactly those the parsed block gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ddlPlan, ownerAndGrants, ownerOnly } from '../../src/stages/precheck/ddl-plan.js';
import type { Statement } from '../../src/core/statement.js';
import type { Selection } from '../../src/core/selection.js';

const st = (kind: string, name: string, sql: string): Statement => ({
  key: `${kind} ${name}`,
  kind,
  name,
  section: 'pre',
  sql,
});

const blocks: Statement[] = [
  st(
    'table',
    'public.t1',
    'CREATE TABLE public.t1 (\n  id integer NOT NULL,\n  v text\n);\nALTER TABLE public.t1 OWNER TO app_owner;',
  ),
  st('table', 't2', 'CREATE TABLE t2 (id integer);\nALTER TABLE t2 OWNER TO "App Owner";'),
  st(
    'table',
    '"Sch""x".t3',
    'CREATE TABLE "Sch""x".t3 (id integer);\nALTER TABLE "Sch""x"."T;\nALTER" OWNER TO "o""w";',
  ),
  st('sequence', 'public.s', 'CREATE SEQUENCE public.s;\nALTER SEQUENCE public.s OWNER TO app_owner;'),
  st('view', 'public.v', 'CREATE VIEW public.v AS\n SELECT 1 AS x;\nALTER VIEW public.v OWNER TO app_owner;'),
  st(
    'materialized view',
    'public.mv',
    'CREATE MATERIALIZED VIEW public.mv AS\n SELECT 1 AS x WITH NO DATA;\nALTER MATERIALIZED VIEW public.mv OWNER TO app_owner;',
  ),
  st('type', 'public.e', "CREATE TYPE public.e AS ENUM ('a');\nALTER TYPE public.e OWNER TO app_owner;"),
  st('domain', 'public.d', 'CREATE DOMAIN public.d AS integer;\nALTER DOMAIN public.d OWNER TO app_owner;'),
  // unquoted public is the PUBLIC pseudo-role: no owner change (the parser's reading)
  st('table', 'public.t4', 'CREATE TABLE public.t4 (id integer);\nALTER TABLE public.t4 OWNER TO public;'),
  // a column named like a keyword, a comment, a grant after the owner line: parsed
  st('table', 'public.t5', 'CREATE TABLE public.t5 (owner text);\nALTER TABLE public.t5 OWNER TO app_owner;'),
  st(
    'table',
    'public.t6',
    'CREATE TABLE public.t6 (id integer);\nALTER TABLE public.t6 OWNER TO app_owner;\nGRANT SELECT ON TABLE public.t6 TO reader;',
  ),
  st('schema', 's', 'CREATE SCHEMA s;\nALTER SCHEMA s OWNER TO app_owner;'),
];

test('ddlPlan: owner changes read from the OWNER TO line equal those of the parsed block', async () => {
  const sel = {} as Selection;
  for (const b of blocks) {
    const fast = await ddlPlan([b], sel);
    // a comment in front keeps the block away from the line reading: the parser reads it
    const parsed = await ddlPlan([{ ...b, sql: `/* parsed */ ${b.sql}` }], sel);
    assert.deepEqual(fast.owners, parsed.owners, b.sql);
    assert.deepEqual([...fast.grantees], [...parsed.grantees], b.sql);
    assert.deepEqual([...fast.schemas], [...parsed.schemas], b.sql);
  }
  // the line reading is taken for every block but the enum's (a string in its head) and the last four
  assert.deepEqual(
    blocks.map((b) => ownerOnly(b) !== undefined),
    [true, true, true, true, true, true, false, true, false, false, false, false],
  );
  const all = await ddlPlan(blocks, sel);
  assert.deepEqual(
    all.owners.map((o) => [o.role, o.schema]),
    [
      ['app_owner', 'public'],
      ['App Owner', null],
      ['o"w', 'Sch"x'],
      ['app_owner', 'public'],
      ['app_owner', 'public'],
      ['app_owner', 'public'],
      ['app_owner', 'public'],
      ['app_owner', 'public'],
      ['app_owner', 'public'],
      ['app_owner', 'public'],
      ['app_owner', null],
    ],
  );
  assert.equal(all.owners[0].sql, 'ALTER TABLE public.t1 OWNER TO app_owner');
});

// Blocks of a table or sequence followed by the grants the generator writes for it.
const granted: Statement[] = [
  st(
    'table',
    'public.g1',
    'CREATE TABLE public.g1 (\n  id integer NOT NULL\n);\nALTER TABLE public.g1 OWNER TO app_owner;\nREVOKE ALL ON TABLE public.g1 FROM PUBLIC;\nGRANT SELECT ON TABLE public.g1 TO reader;',
  ),
  st(
    'table',
    '"S x".g2',
    'CREATE TABLE "S x".g2 (id integer);\nALTER TABLE "S x".g2 OWNER TO "Own""er";\nREVOKE ALL ON TABLE "S x".g2 FROM PUBLIC;\nREVOKE ALL ON TABLE "S x".g2 FROM "Own""er";\nGRANT SELECT ON TABLE "S x".g2 TO "Read ""Me""";\nGRANT UPDATE ON TABLE "S x".g2 TO PUBLIC;\nGRANT INSERT ON TABLE "S x".g2 TO writer WITH GRANT OPTION;',
  ),
  st(
    'table',
    'public.g3',
    'CREATE TABLE public.g3 (id integer, n integer);\nALTER TABLE public.g3 OWNER TO app_owner;\nGRANT SELECT (n) ON TABLE public.g3 TO PUBLIC;\nGRANT UPDATE (id, n) ON TABLE public.g3 TO colw;',
  ),
  st(
    'sequence',
    'public.s2',
    'CREATE SEQUENCE public.s2;\nALTER SEQUENCE public.s2 OWNER TO app_owner;\nREVOKE ALL ON SEQUENCE public.s2 FROM PUBLIC;\nGRANT USAGE ON SEQUENCE public.s2 TO reader;',
  ),
  // a role specification the parser reads differently, a grant on something else, a comment: parsed
  st(
    'table',
    'public.g4',
    'CREATE TABLE public.g4 (id integer);\nALTER TABLE public.g4 OWNER TO app_owner;\nGRANT SELECT ON TABLE public.g4 TO current_user;',
  ),
  st(
    'table',
    'public.g5',
    'CREATE TABLE public.g5 (id integer);\nALTER TABLE public.g5 OWNER TO app_owner;\nGRANT USAGE ON SCHEMA public TO reader;',
  ),
  st(
    'table',
    'public.g6',
    "CREATE TABLE public.g6 (id integer);\nALTER TABLE public.g6 OWNER TO app_owner;\nGRANT SELECT ON TABLE public.g6 TO reader;\nCOMMENT ON TABLE public.g6 IS 'x';",
  ),
];

test('ddlPlan: owner changes and grantees read from the lines after OWNER TO equal those of the parsed block', async () => {
  const sel = {} as Selection;
  for (const b of granted) {
    const fast = await ddlPlan([b], sel);
    const parsed = await ddlPlan([{ ...b, sql: `/* parsed */ ${b.sql}` }], sel);
    assert.deepEqual(fast.owners, parsed.owners, b.sql);
    assert.deepEqual([...fast.grantees].sort(), [...parsed.grantees].sort(), b.sql);
    assert.deepEqual([...fast.schemas], [...parsed.schemas], b.sql);
    assert.deepEqual(fast.touches.length, parsed.touches.length, b.sql);
  }
  assert.deepEqual(
    granted.map((b) => ownerAndGrants(b) !== undefined),
    [true, true, true, true, false, false, false],
  );
  assert.deepEqual(ownerAndGrants(granted[1])?.grantees, ['Read "Me"', 'writer']);
  assert.equal(ownerAndGrants(granted[0])?.owner.sql, 'ALTER TABLE public.g1 OWNER TO app_owner');
  const all = await ddlPlan(granted, sel);
  assert.deepEqual([...all.grantees].sort(), ['Read "Me"', 'colw', 'reader', 'writer']);
});

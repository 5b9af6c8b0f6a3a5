// The memory-saving copies of texts (core/flat.ts, core/intern.ts, ddl/compact.ts) give back exactly
// what they were given: the generated DDL and the catalog model must not change by a character.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flat } from '../../src/core/flat.js';
import { Interner } from '../../src/core/intern.js';
import { compactStatements } from '../../src/stages/schema/ddl/compact.js';
import type { Statement } from '../../src/core/statement.js';

const odd = [
  '',
  'CREATE TABLE public.t1 (\n    id integer NOT NULL\n);',
  'COMMENT ON TABLE public."quo""ted" IS \'it\'\'s \\ a "test"\t\r\n\';',
  'naïve 日本語 😀 \u0000 \u001f \u2028 \u2029',
  'lone \uD800 surrogate \uDFFF',
];

test('flat gives back the same text, whatever characters it holds', () => {
  for (const s of odd) {
    const built = s.split('').reduce((a, c) => a + c, ''); // a concatenation tree
    assert.equal(flat(built), s);
    assert.equal(flat(built).length, s.length);
  }
});

test('Interner keeps one equal copy per text, passes null through, and copies lists at their length', () => {
  const t = new Interner();
  assert.equal(t.text(null), null);
  assert.equal(t.text(undefined), undefined);
  for (const s of odd) assert.equal(t.text(`${s}`), s);
  const list = ['public', 'public', 'app'];
  const copy = t.texts(list);
  assert.notEqual(copy, list);
  assert.deepEqual(copy, ['public', 'public', 'app']);
  assert.equal(t.texts(null), null);
});

test('compactStatements changes no field of a statement nor of plan objects', () => {
  const stmts: Statement[] = odd.map((sql, i) => ({
    key: `table public.t${i}`,
    kind: 'table',
    name: `public.t${i}`,
    section: i % 2 ? 'early' : 'pre',
    sql,
    ...(i % 2 ? { table: `public.t${i}`, lock: 'share' as const, buildOf: `index public.t${i}_pkey` } : {}),
    ...(i % 3 ? { drop: `DROP TABLE IF EXISTS public.t${i} CASCADE;` } : {}),
  }));
  const objects = stmts.map((s) => ({ kind: s.kind, source: s.name, target: s.name }));
  const before = structuredClone({ stmts, objects });
  const out = compactStatements(stmts, objects);
  assert.equal(out, stmts);
  assert.deepEqual({ stmts, objects }, before);
});

// The row-filter rule (src/core/filter.ts), without a server: what is accepted, what is refused and why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRowFilter } from '../../src/core/filter.js';
import { validateTask } from '../../src/core/config.js';
import { PgferryError } from '../../src/core/errors.js';

const reason = (f: string): string => {
  try {
    checkRowFilter(f, 'public.t');
    return 'accepted';
  } catch (e) {
    assert.ok(e instanceof PgferryError && e.kind === 'usage', String(e));
    assert.ok(e.hint && /one boolean expression/.test(e.hint));
    return e.message.replace(/^.* refused: /s, '');
  }
};

test('legitimate filters are accepted unchanged', () => {
  for (const f of [
    `created_at >= '2024-01-01'`,
    `id % 2 = 0`,
    `status IN ('a','b')`,
    `lower(name) LIKE 'a%'`,
    `coalesce(x,0) > 3`,
    `x::int > 1 AND CAST(y AS text) <> ''`,
    `now() - interval '1 day' < created_at`,
    `x = $$a;b--c)$$`,
    `"Weird ""Col""" = 'x''y'`,
    `E'a\\'b' = z`,
    `extract(year from d) = 2024`,
    `d IS JSON`,
    `CASE WHEN a THEN b ELSE c END`,
    `x IS DISTINCT FROM 3 AND y BETWEEN 1 AND 5 AND z IS NOT NULL`,
    `arr[1] = 2 AND (comp).f = 1 AND name COLLATE "C" > 'a' AND ROW(a, b) = ROW(1, 2)`,
    `U&'d\\0061t' = x`,
    `b = B'0101' AND h = X'1F'`,
    `greatest(a, b) > least(c, d) AND nullif(a, 0) IS NULL`,
  ]) {
    assert.equal(checkRowFilter(f, 'public.t'), f);
  }
});

test('escapes and server-side effects are refused with the reason', () => {
  const cases: [string, RegExp][] = [
    [`1=1) ; CREATE TABLE pwned(); --`, /closes more parentheses/],
    [`true; COMMIT; CREATE TABLE pwned()`, /";"/],
    [`1=1)) UNION SELECT 1 FROM x WHERE ((1=1`, /closes more parentheses/],
    [`1=1) OR (1=1`, /closes more parentheses/],
    [`(1=1`, /unbalanced/],
    [`1=1 /* ) */`, /comment/],
    [`1=1 -- )`, /comment/],
    [`x = $$ ) ; DROP TABLE t; --`, /unterminated dollar/],
    [`x = 'a`, /unterminated string/],
    [`"x = 1`, /unterminated quoted identifier/],
    [`'a\\' = x`, /backslash/],
    [`N'a\\' = x`, /backslash/],
    [`E'\\'' ) ; --' = ''`, /closes more parentheses/],
    [`B'0'')' = b`, /closes more parentheses|not a valid SQL/],
    [`(SELECT 1 FROM (COPY t TO PROGRAM 'x')) = 1`, /not a valid SQL expression/],
    [`EXISTS (WITH d AS (DELETE FROM t RETURNING 1) SELECT 1 FROM d)`, /sub-query/],
    [`x IN (SELECT 1)`, /sub-query/],
    [`ARRAY(SELECT 1) = '{1}'`, /sub-query/],
    [`x = $1`, /parameter/],
    [`count(*) > 0`, /aggregate/],
    [`sum(x) FILTER (WHERE true) > 0`, /aggregate/],
    [`row_number() OVER () > 1`, /window function/],
    [`pg_sleep(1) IS NOT NULL`, /pg_sleep\(\)/],
    [`pg_catalog.pg_read_file('/etc/passwd') <> ''`, /pg_catalog\.pg_read_file\(\)/],
    [`"PG_TERMINATE_BACKEND"(1)`, /PG_TERMINATE_BACKEND\(\)/],
    [`lo_export(1, '/tmp/x') > 0`, /lo_export\(\)/],
    [`loread(1, 1) = ''`, /loread\(\)/],
    [`dblink_exec('x', 'y') = ''`, /dblink_exec\(\)/],
    [`set_config('default_transaction_read_only', 'off', false) = 'off'`, /set_config\(\)/],
    [`nextval('s') > 0`, /nextval\(\)/],
    [`query_to_xml('select 1', true, true, '') IS NOT NULL`, /query_to_xml\(\)/],
    [`ts_stat('select 1') IS NOT NULL`, /ts_stat\(\)/],
    [`x = 1 FOR UPDATE`, /not a valid SQL expression/],
    [``, /empty/],
    ['x = 1\0; DROP TABLE t', /";"|NUL/],
    ['x'.repeat(10_001), /longer than/],
    [`${'NOT '.repeat(2400)}x`, /nested too deeply/],
  ];
  for (const [f, want] of cases) assert.match(reason(f), want, JSON.stringify(f));
});

test('a task with a bad filter fails to load, naming the table and the filter', () => {
  assert.throws(
    () => validateTask({ source: 's', target: 't', tables: { 'public.t': { where: 'true; DROP TABLE t' } } }),
    (e: Error) =>
      e instanceof PgferryError &&
      e.kind === 'usage' &&
      /^task: tables\.public\.t\.where: row filter "true; DROP TABLE t" refused: a ";"/.test(e.message),
  );
});

// Index build scheduling per table, from the statements' lock level only: builds (SHARE) side by side,
// anything else alone, ANALYZE last.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LockLevel, Statement } from '../../src/core/statement.js';
import { buildOrder, IndexSchedule, type IndexJob } from '../../src/stages/data/copy/index-schedule.js';

const st = (key: string, sql: string, lock?: LockLevel, buildOf?: string): Statement => ({
  key,
  kind: 'index',
  name: key,
  section: 'early',
  sql,
  table: 't',
  ...(lock ? { lock } : {}),
  ...(buildOf ? { buildOf } : {}),
});
const label = (j: IndexJob<string> | undefined) => (j ? `${j.t.key}:${j.stmt?.key ?? 'ANALYZE'}` : '-');

/** Take every job that may start now. */
function startAll(s: IndexSchedule<string>): IndexJob<string>[] {
  const out: IndexJob<string>[] = [];
  for (let j = s.next(); j; j = s.next()) out.push(j);
  return out;
}

test('builds run side by side, the attachment waits for them and runs alone, then ANALYZE', () => {
  const pkBuild = st('pk#index', 'CREATE UNIQUE INDEX t_pkey ON s.t (id);', 'share', 'pk');
  const pk = st('pk', 'ALTER TABLE ONLY s.t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_pkey;', 'access-exclusive');
  const ix = st('ix', 'CREATE INDEX t_x ON s.t (x);', 'share');
  const ex = st('ex', 'ALTER TABLE ONLY s.t ADD CONSTRAINT t_excl EXCLUDE USING gist (r WITH &&);', 'access-exclusive');
  const s = new IndexSchedule<string>();
  s.add('t', 't', buildOrder([pkBuild, pk, ex, ix], new Set()), true);
  const trace: string[][] = [];
  let running = startAll(s);
  while (running.length) {
    trace.push(running.map(label));
    for (const j of running) s.done(j);
    running = startAll(s);
  }
  assert.deepEqual(trace, [['t:pk#index', 't:ix'], ['t:pk'], ['t:ex'], ['t:ANALYZE']]);
  assert.equal(s.empty, true);
});

test('a barrier of one table does not hold back the next table', () => {
  const s = new IndexSchedule<string>();
  const a1 = st('a1', 'ALTER TABLE a ADD CONSTRAINT c EXCLUDE USING gist (r WITH &&);', 'access-exclusive');
  s.add('a', 'a', [a1, st('a2', 'CREATE INDEX a2 ON a (x);', 'share')], false);
  s.add(
    'b',
    'b',
    [st('b1', 'CREATE INDEX b1 ON b (x);', 'share'), st('b2', 'CREATE INDEX b2 ON b (y);', 'share')],
    true,
  );
  const first = startAll(s);
  assert.deepEqual(first.map(label), ['a:a1', 'b:b1', 'b:b2']);
  s.done(first[1]);
  assert.equal(label(s.next()), '-'); // b's ANALYZE waits for b2; a waits for a1
  s.done(first[0]);
  assert.equal(label(s.next()), 'a:a2');
  s.done(first[2]);
  assert.equal(label(s.next()), 'b:ANALYZE');
});

test('the schedule reads the lock level, not the SQL: a statement without one runs alone', () => {
  const s = new IndexSchedule<string>();
  // SQL that a text match would take for an index build, without a lock level: alone
  s.add('t', 't', [st('c1', 'CREATE INDEX c1 ON t (x);'), st('c2', 'CREATE INDEX c2 ON t (y);', 'share')], false);
  assert.deepEqual(startAll(s).map(label), ['t:c1']);
  // a comment (SHARE UPDATE EXCLUSIVE) conflicts with builds: alone too
  const u = new IndexSchedule<string>();
  const c = st('c', "COMMENT ON INDEX t_x IS 'x';", 'share-update-exclusive');
  u.add(
    't',
    't',
    [st('b', 'CREATE INDEX t_y ON t (y);', 'share'), c, st('d', 'CREATE INDEX t_z ON t (z);', 'share')],
    false,
  );
  assert.deepEqual(startAll(u).map(label), ['t:b']);
});

test('a table with nothing left but ANALYZE gets ANALYZE alone', () => {
  const s = new IndexSchedule<string>();
  s.add('t', 't', [], true);
  const jobs = startAll(s);
  assert.deepEqual(jobs.map(label), ['t:ANALYZE']);
  s.done(jobs[0]);
  assert.equal(s.empty, true);
});

test('nextAnalyze: a big table ANALYZEd ahead of its builds only while they wait, never ahead of an expression index', () => {
  const big = () => true;
  const s = new IndexSchedule<string>();
  s.add('a', 'a', [st('a1', 'CREATE INDEX a1 ON s.a (x);', 'share')], true);
  // an index session is free: the builds go first, ANALYZE stays last
  assert.equal(s.nextAnalyze(big, false), undefined);
  // every index session busy: ANALYZE now, and the table's builds wait for it (they lock each other out)
  const an = s.nextAnalyze(big, true);
  assert.equal(label(an), 'a:ANALYZE');
  assert.equal(s.next(), undefined);
  s.done(an!);
  const b = s.next();
  assert.equal(label(b), 'a:a1');
  s.done(b!);
  assert.equal(s.next(), undefined, 'no second ANALYZE');
  assert.equal(s.empty, true);

  const e = new IndexSchedule<string>();
  e.add('e', 'e', [{ ...st('e1', 'CREATE INDEX e1 ON s.e (lower(x));', 'share'), expressions: true }], true);
  assert.equal(e.nextAnalyze(big, true), undefined, 'expression index: ANALYZE after it');
  assert.equal(
    e.nextAnalyze(() => false, true),
    undefined,
  );
  assert.deepEqual(startAll(e).map(label), ['e:e1']);

  // nothing left to build: ANALYZE may go on the side session at once, small tables excepted
  const n = new IndexSchedule<string>();
  n.add('n', 'n', [], true);
  assert.equal(
    n.nextAnalyze(() => false, false),
    undefined,
  );
  assert.equal(label(n.nextAnalyze(big, false)), 'n:ANALYZE');
});

test('a table builds its indexes of another access method than btree (GIN, GiST…) first, the rest in order', () => {
  const pkBuild = st('pk#index', 'CREATE UNIQUE INDEX t_pkey ON s.t (id);', 'share', 'pk');
  const pk = st('pk', 'ALTER TABLE ONLY s.t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_pkey;', 'access-exclusive');
  const ix = st('ix', 'CREATE INDEX t_x ON s.t (x);', 'share');
  const gin = { ...st('gin', 'CREATE INDEX t_j ON s.t USING gin (j);', 'share'), method: 'gin' };
  assert.deepEqual(
    buildOrder([pkBuild, pk, ix, gin], new Set()).map((x) => x.key),
    ['gin', 'pk#index', 'ix', 'pk'],
  );
});

test('a held table starts none of its jobs until released; statementsDone once only its ANALYZE is left or runs', () => {
  const ix = st('ix', 'CREATE INDEX t_x ON s.t (x);', 'share');
  const s = new IndexSchedule<string>();
  s.add('t', 't', [ix], true);
  assert.equal(s.statementsDone('t'), false);
  const build = s.next()!;
  assert.equal(label(build), 't:ix');
  assert.equal(s.statementsDone('t'), false, 'its build runs');
  s.done(build);
  assert.equal(s.statementsDone('t'), true, 'only ANALYZE is left');
  s.hold('t');
  assert.equal(s.next(), undefined, 'held');
  assert.equal(
    s.nextAnalyze(() => true, true),
    undefined,
    'held from the side session too',
  );
  s.release('t');
  const an = s.next()!;
  assert.equal(label(an), 't:ANALYZE');
  assert.equal(s.idle('t'), false);
  assert.equal(s.statementsDone('t'), true, 'its ANALYZE runs');
  s.done(an);
  assert.equal(s.has('t'), false);
  assert.equal(s.idle('t'), true);
  assert.equal(s.statementsDone('t'), true);
});

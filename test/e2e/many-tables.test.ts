// Many small tables: schema statements applied in batches (one transaction with their checkpoint
// rows), a failing statement inside a batch still named, independent tables created on two target
// sessions at once (a table naming another one waits for it), and `pgferry migrate` killed with
// SIGKILL in the middle of the batched two-session DDL, then rerun: every table exact. Least-privilege accounts:
// the source account has CONNECT/USAGE/SELECT only, the target account owns the database, no superuser.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type pg from 'pg';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import type { TimedEvent } from '../../src/core/events.js';
import { EventBus } from '../../src/core/events.js';
import type { Statement } from '../../src/core/statement.js';
import { quoteIdent, quoteLiteral } from '../../src/core/ident.js';
import pgLib from 'pg';
import { applyStatements } from '../../src/stages/schema/apply.js';
import { migrate as runMigrate } from '../../src/engine/runner.js';
import { validateTask } from '../../src/core/config.js';
import { ensureCheckpoints } from '../../src/state/checkpoint.js';
import { passwordHba, sourceAccount, targetAccount } from '../embed/accounts.js';
import { schemaFingerprint, tableHashes, withClient } from '../helpers/compare.js';

// three batches of schema statements: a kill after the first commit lands in the second or third
const TABLES = 260;
let pg15: Cluster;
let source: string;
const stateDir = mkdtempSync(join(tmpdir(), 'pgferry-many-state-'));

before(async () => {
  pg15 = await startCluster({
    version: 15,
    hba: passwordHba(['many_src', ...Array.from({ length: 10 }, (_, i) => `many_tgt${i + 1}`)]),
  });
  await withClient(pg15.url(), (c) => c.query('CREATE DATABASE many'));
  await withClient(pg15.url('many'), (c) =>
    c.query(`DO $$ BEGIN FOR i IN 1..${TABLES} LOOP
      EXECUTE format('CREATE TABLE %I (id integer PRIMARY KEY, n integer NOT NULL, v text)', 't' || i);
      EXECUTE format('INSERT INTO %I SELECT g, g %% 7, md5((g * %s)::text) FROM generate_series(1, 50) g', 't' || i, i);
      EXECUTE format('CREATE INDEX %I ON %I (n)', 't' || i || '_n', 't' || i);
    END LOOP; END $$`),
  );
  source = await sourceAccount(pg15, 'many', 'many_src', 'src-pw', ['public']);
});

after(async () => {
  await pg15?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

const table = (name: string, sql: string): Statement => ({
  key: `table public.${name}`,
  kind: 'table',
  name: `public.${name}`,
  section: 'pre',
  sql,
});

/** Counts the queries a session sends. */
function countQueries(c: pg.Client): { n: number } {
  const counter = { n: 0 };
  const send = c.query.bind(c) as (...a: unknown[]) => unknown;
  (c as unknown as { query: (...a: unknown[]) => unknown }).query = (...a: unknown[]) => {
    counter.n++;
    return send(...a);
  };
  return counter;
}

let targets = 0;
async function freshTarget(): Promise<string> {
  targets++;
  return targetAccount(pg15, `many_t${targets}`, `many_tgt${targets}`, 'tgt-pw');
}

test('a failing statement inside a batch is named; the statements before it stay, exactly checkpointed', async () => {
  const url = await freshTarget();
  const stmts = Array.from({ length: 300 }, (_, i) => table(`b${i}`, `CREATE TABLE public.b${i} (id integer)`));
  stmts[150] = table('bad', 'CREATE TABLE public.bad (id integer REFERENCES public.missing (id))');
  await withClient(url, async (c) => {
    await ensureCheckpoints(c, 'batch', 'src');
    const o = { taskId: 'batch', events: new EventBus(), ifExists: 'error' as const };
    const sent = countQueries(c);
    await assert.rejects(applyStatements(c, stmts, o), (e: Error) => {
      assert.match(e.message, /table public\.bad/);
      assert.match(e.message, /relation "public\.missing" does not exist/);
      return true;
    });
    // the first batch of 100 went in a handful of queries, not a transaction per statement
    assert.ok(sent.n < 100 + 51 * 6, `${sent.n} queries`);
    const made = await c.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`);
    const marked = await c.query(`SELECT count(*)::int AS n FROM pgferry.object WHERE task_id = 'batch'`);
    assert.deepEqual([made.rows[0].n, marked.rows[0].n], [150, 150]);
    // fixed and rerun: the rest is created, nothing twice
    stmts[150] = table('bad', 'CREATE TABLE public.bad (id integer)');
    const again = countQueries(c);
    assert.deepEqual(await applyStatements(c, stmts, o), { created: 150, skipped: 150 });
    assert.ok(again.n < 20, `${again.n} queries for 150 statements in two batches`);
    const all = await c.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`);
    assert.equal(all.rows[0].n, 300);
  });
});

test('ifExists skip inside a batch: the existing table is kept and named, the others created', async () => {
  const url = await freshTarget();
  const stmts = Array.from({ length: 30 }, (_, i) => table(`s${i}`, `CREATE TABLE public.s${i} (id integer)`));
  await withClient(url, async (c) => {
    await c.query('CREATE TABLE public.s7 (other text)');
    await ensureCheckpoints(c, 'skip', 'src');
    const events = new EventBus();
    const warned: string[] = [];
    events.on((e) => e.type === 'log' && e.level === 'warn' && warned.push(e.message));
    const r = await applyStatements(c, stmts, { taskId: 'skip', events, ifExists: 'skip' });
    assert.equal(r.created, 30);
    assert.deepEqual(warned, ['table public.s7 already exists on the target; skipped (ifExists: skip)']);
    const cols = await c.query(`SELECT string_agg(attname, ',') AS a FROM pg_attribute
                                 WHERE attrelid = 'public.s7'::regclass AND attnum > 0`);
    assert.equal(cols.rows[0].a, 'other');
  });
});

/** Other sessions to `url` for applyStatements, counting them and the queries they are sent. */
function sideOf(url: string): { open: () => Promise<pg.Client>; sent: () => number[] } {
  const counters: { n: number }[] = [];
  const open = async () => {
    const c = new pgLib.Client({ connectionString: url });
    await c.connect();
    counters.push(countQueries(c));
    return c;
  };
  return { open, sent: () => counters.map((x) => x.n) };
}

for (const sides of [1, 3]) {
  test(`${sides + 1} sessions: independent tables side by side, a table naming another created after it`, async () => {
    const url = await freshTarget();
    // t0..t59, with a table of t5's row type among them and a partitioned table with its partitions:
    // the first batch (t0..t14 with two sessions, t0..t9 with four: batches of 10 at least) is on the
    // caller's session and the next ones on the other sessions, so without the wait the row type's
    // table would be created while t5 is not committed yet
    const stmts = Array.from({ length: 60 }, (_, i) =>
      table(`t${i}`, `CREATE TABLE public.t${i} (id integer, v text)`),
    );
    stmts[45] = table('rt', 'CREATE TABLE public.rt (r public.t5, k regclass DEFAULT $$public.t6$$::regclass)');
    // the first batch stays open a second after t5 (so the other sessions surely start meanwhile)
    const last = Math.max(10, 60 / (2 * (sides + 1))) - 1;
    stmts[last] = table(`t${last}`, `CREATE TABLE public.t${last} (id integer); SELECT pg_sleep(1)`);
    stmts[20] = table('p', 'CREATE TABLE public.p (id integer) PARTITION BY RANGE (id)');
    stmts[40] = table('p1', 'CREATE TABLE public.p1 PARTITION OF public.p FOR VALUES FROM (0) TO (10)');
    stmts[50] = table('p2', 'CREATE TABLE public.p2 PARTITION OF public.p FOR VALUES FROM (10) TO (20)');
    await withClient(url, async (c) => {
      await ensureCheckpoints(c, 'two', 'src');
      const side = sideOf(url);
      const r = await applyStatements(c, stmts, {
        taskId: 'two',
        events: new EventBus(),
        ifExists: 'error',
        openSide: side.open,
        sideSessions: sides,
      });
      assert.deepEqual(r, { created: 60, skipped: 0 });
      assert.equal(side.sent().length, sides);
      assert.ok(
        side.sent().every((n) => n > 0),
        `every other session created tables: ${side.sent()}`,
      );
      const made = await c.query(`SELECT count(*)::int AS n FROM pg_class WHERE relnamespace = 'public'::regnamespace
                                     AND relkind IN ('r', 'p')`);
      const marked = await c.query(`SELECT count(*)::int AS n FROM pgferry.object WHERE task_id = 'two'`);
      assert.deepEqual([made.rows[0].n, marked.rows[0].n], [60, 60]);
      const parts = await c.query(`SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = 'public.p'::regclass`);
      assert.equal(parts.rows[0].n, 2);
    });
  });
}

test('two sessions: a statement failing in a shared run is named; exactly the committed batches are done', async () => {
  const url = await freshTarget();
  const stmts = Array.from({ length: 80 }, (_, i) => table(`f${i}`, `CREATE TABLE public.f${i} (id integer)`));
  stmts[70] = table('bad', 'CREATE TABLE public.bad (id integer REFERENCES public.missing (id))');
  await withClient(url, async (c) => {
    await ensureCheckpoints(c, 'twofail', 'src');
    const o = { taskId: 'twofail', events: new EventBus(), ifExists: 'error' as const };
    await assert.rejects(applyStatements(c, stmts, { ...o, openSide: sideOf(url).open }), (e: Error) => {
      assert.match(e.message, /table public\.bad/);
      assert.match(e.message, /relation "public\.missing" does not exist/);
      return true;
    });
    const made = await c.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`);
    const marked = await c.query(`SELECT count(*)::int AS n FROM pgferry.object WHERE task_id = 'twofail'`);
    const both = await c.query(`SELECT count(*)::int AS n FROM pg_tables t JOIN pgferry.object o
                                  ON o.object_key = 'table public.' || t.tablename WHERE t.schemaname = 'public'`);
    assert.equal(marked.rows[0].n, made.rows[0].n);
    assert.equal(both.rows[0].n, made.rows[0].n);
    // the first session's batch and the second's statements before the bad one
    assert.ok(made.rows[0].n >= 70 && made.rows[0].n < 80, `${made.rows[0].n} tables`);
    stmts[70] = table('bad', 'CREATE TABLE public.bad (id integer)');
    const again = await applyStatements(c, stmts, { ...o, openSide: sideOf(url).open });
    assert.equal(again.created + again.skipped, 80);
    const all = await c.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`);
    assert.equal(all.rows[0].n, 80);
  });
});

test('count verification (source side read during the copy) catches a target row lost or added after its copy', async () => {
  const url = await freshTarget();
  const events = new EventBus();
  const tampered: Promise<number>[] = [];
  let verifyStarted = 0;
  events.on((e) => {
    if (e.type === 'phase-start' && e.phase === 'verify') verifyStarted = Date.now();
    if (e.type !== 'table-done') return;
    const sql =
      e.table === 'public.t10'
        ? 'DELETE FROM public.t10 WHERE id = 1'
        : e.table === 'public.t20'
          ? 'INSERT INTO public.t20 SELECT id + 1000, n, v FROM public.t20 WHERE id = 1'
          : undefined;
    if (sql) tampered.push(withClient(url, (c) => c.query(sql)).then(() => Date.now()));
  });
  const task = validateTask({ name: 'tamper', source, target: url, stateDir, jobs: 2, noOwner: true, noAcl: true });
  const r = await runMigrate(task, { events });
  const at = await Promise.all(tampered);
  assert.equal(at.length, 2);
  assert.ok(Math.max(...at) < verifyStarted, 'both target changes were made before verify started');
  assert.equal(r.verify?.ok, false);
  const bad = r.verify!.tables.filter((t) => !t.ok).map((t) => [t.key, t.sourceRows, t.targetRows]);
  assert.deepEqual(bad, [
    ['public.t10', 50, 49],
    ['public.t20', 50, 51],
  ]);
});

/** `pgferry migrate --json` as a child process; `onEvent` may call kill() to SIGKILL it. */
function migrate(
  target: string,
  name: string,
  onEvent: (e: TimedEvent, kill: () => void) => void,
  extra: string[] = [],
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve) => {
    const args = ['migrate', '--json', '--name', name, '--state-dir', stateDir, '-s', source, '-t', target];
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/helpers/cli.ts', ...args, '--jobs', '2', '--no-owner', '--no-acl', ...extra],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        onEvent(JSON.parse(line) as TimedEvent, () => child.kill('SIGKILL'));
      } catch {
        /* not an event */
      }
    });
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

/** Tables on the target and table checkpoint rows: the same set after any kill. */
async function assertCheckpointsExact(url: string): Promise<number> {
  return withClient(url, async (c) => {
    const r = await c.query<{ made: number; marked: number; both: number }>(`
      SELECT (SELECT count(*)::int FROM pg_tables WHERE schemaname = 'public') AS made,
             (SELECT count(*)::int FROM pgferry.object WHERE kind = 'table') AS marked,
             (SELECT count(*)::int FROM pg_tables t JOIN pgferry.object o
                ON o.kind = 'table' AND o.object_key LIKE '%' || t.tablename
               WHERE t.schemaname = 'public') AS both`);
    const { made, marked, both } = r.rows[0];
    assert.deepEqual([marked, both], [made, made], 'every table created has its checkpoint row and no other');
    return made;
  });
}

test('SIGKILL during the batched DDL, rerun: every table exact', async () => {
  const url = await freshTarget();
  let created = 0;
  const first = await migrate(url, 'ddl', (e, kill) => {
    if (e.type === 'object' && e.action === 'created' && e.kind === 'table' && ++created === 1) kill();
  });
  assert.equal(first.signal, 'SIGKILL', first.stderr);
  const made = await assertCheckpointsExact(url);
  assert.ok(made > 0 && made < TABLES, `killed after the first batch: ${made} tables`);
  const second = await migrate(url, 'ddl', () => {});
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(await tableHashes(url), await tableHashes(pg15.url('many')));
  assert.deepEqual(await schemaFingerprint(url), await schemaFingerprint(pg15.url('many')));
});

test('SIGKILL inside a copy unit of many small tables, rerun: every table exact', async () => {
  const url = await freshTarget();
  const started = new Set<string>();
  const done = new Set<string>();
  let killing = false;
  const slow = ['--max-rows-per-sec', '2500'];
  const first = await migrate(
    url,
    'copy',
    (e, kill) => {
      if (e.type === 'table-start') started.add(e.table);
      if (e.type === 'table-done') done.add(e.table);
      // a batch has committed and the next ones are part-way through their tables: killed at that
      // moment (read from the events, not after a delay that a loaded machine may overrun)
      const open = [...started].filter((t) => !done.has(t)).length;
      if (done.size > 0 && open > 2 && !killing) {
        killing = true;
        kill();
      }
    },
    slow,
  );
  assert.equal(first.signal, 'SIGKILL', first.stderr);
  const cut = [...started].filter((t) => !done.has(t));
  assert.ok(cut.length > 2, `tables started and not done when killed (2 jobs): ${cut.length}`);
  await withClient(url, async (c) => {
    // a table is whole and marked, or empty and unmarked: never part of a batch
    const names = (await c.query(`SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public'`)).rows;
    const counts = names.map(
      ({ t }) => `SELECT ${quoteLiteral(t)} AS t, count(*)::int AS n FROM public.${quoteIdent(t)}`,
    );
    const r = await c.query<{ t: string; n: number; units: number }>(
      `SELECT x.t, x.n, (SELECT count(*)::int FROM pgferry.unit u WHERE u.table_name = 'public.' || x.t) AS units
         FROM (${counts.join(' UNION ALL ')}) x`,
    );
    const partial = r.rows.filter((x) => !((x.n === 50 && x.units === 1) || (x.n === 0 && x.units === 0)));
    assert.deepEqual(partial, []);
    const whole = r.rows.filter((x) => x.n === 50).length;
    assert.ok(whole >= done.size && whole < TABLES, `${whole} tables copied before the kill`);
  });
  const second = await migrate(url, 'copy', () => {});
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(await tableHashes(url), await tableHashes(pg15.url('many')));
});

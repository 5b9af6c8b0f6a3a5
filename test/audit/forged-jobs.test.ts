// Distributed copy attacked through the control database: whoever can write a row of the job system
// (pgferry_jobs.job) must not make a `pgferry worker` run SQL of their choosing with the worker's
// accounts (the source account, the target database's owner). A real distributed run first (least-
// privilege accounts, names with quotes, dots, unicode and 63 bytes, every kind of index step: PK and
// UNIQUE USING INDEX, a deferrable UNIQUE, EXCLUDE, comments, CLUSTER ON, partition indexes attached),
// then jobs forged into its queues while the task is marked running again with a live snapshot.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { quoteIdent } from '../../src/core/ident.js';
import { indexQueueOf, queueOf } from '../../src/stages/data/distributed/control.js';
import { withClient } from '../helpers/compare.js';
import { appSchema, assertNoPassword, TGT_PW, until, type Worker, WorkersFixture } from '../workers/fixture.js';

const LONG = 'l'.repeat(60) + 'ong'; // 63 bytes, the longest name PostgreSQL keeps
const WEIRD = quoteIdent('we.ird "tab" ü');

// one before hook (Node 20 runs a file's top-level before hooks side by side)
const fx = new WorkersFixture({
  name: 'forge',
  sourceSql: appSchema(
    3000,
    `
    CREATE TABLE app.tattle_log (what text);
    -- what an injected statement calls to leave a trace (it writes, so only outside the READ ONLY copy)
    CREATE FUNCTION app.tattle(what text) RETURNS int LANGUAGE sql SECURITY DEFINER SET search_path = app
      AS $$ INSERT INTO app.tattle_log VALUES (what); SELECT 1 $$;
    CREATE TABLE app.${WEIRD} ("Col ""1"".x" int, "ключ" text, ${LONG} int, PRIMARY KEY ("Col ""1"".x", "ключ"));
    INSERT INTO app.${WEIRD} SELECT g, 'k' || g || repeat(' ü.', 20), g FROM generate_series(1, 20000) g;
    INSERT INTO app.${WEIRD} VALUES (20001, 'ü "quoted", dot.', NULL);
    CREATE UNIQUE INDEX "${LONG}" ON app.${WEIRD} (${LONG});
    COMMENT ON INDEX app."${LONG}" IS 'it''s long';
    ALTER TABLE app.${WEIRD} CLUSTER ON "${LONG}";
    CREATE TABLE app.booking (id int, during int4range, code text,
      CONSTRAINT no_overlap EXCLUDE USING gist (during WITH &&),
      CONSTRAINT code_once UNIQUE (code) DEFERRABLE INITIALLY DEFERRED);
    INSERT INTO app.booking SELECT g, int4range(g * 10, g * 10 + 5), 'c' || g FROM generate_series(1, 40) g;
    CREATE TABLE app.parted (id int, k int, PRIMARY KEY (id, k)) PARTITION BY RANGE (k);
    CREATE TABLE app.parted_1 PARTITION OF app.parted FOR VALUES FROM (0) TO (100);
    CREATE TABLE app.parted_2 PARTITION OF app.parted FOR VALUES FROM (100) TO (200);
    CREATE INDEX parted_id ON app.parted (id);
    INSERT INTO app.parted SELECT g, g % 200 FROM generate_series(1, 400) g;`,
  ),
});

let snapshotHolder: pg.Client | undefined;
let worker: Worker | undefined;

after(async () => {
  if (worker) await fx.stopWorker(worker);
  await snapshotHolder?.end().catch(() => {});
  await fx.stop();
});

const TASK = 'forged';
const ctl = () => fx.tgt.url('ctl');

/** A job inserted straight into the job system's table (no retries); its id. */
async function forge(queue: string, data: unknown): Promise<string> {
  const r = await withClient(ctl(), (c) =>
    c.query<{ id: string }>(
      `INSERT INTO pgferry_jobs.job (name, data, retry_limit, expire_in) VALUES ($1, $2, 0, interval '30 s') RETURNING id`,
      [queue, JSON.stringify(data)],
    ),
  );
  return r.rows[0].id;
}

/** The jobs' final states (completed / failed), once every one has one. */
async function finalStates(ids: string[]): Promise<Map<string, { state: string; output: { message?: string } }>> {
  let rows: { id: string; state: string; output: { message?: string } }[] = [];
  const done = await until(async () => {
    rows = (
      await withClient(ctl(), (c) =>
        c.query(`SELECT id, state, output FROM pgferry_jobs.job WHERE id = ANY($1::uuid[])`, [ids]),
      )
    ).rows;
    return rows.length === ids.length && rows.every((r) => r.state === 'completed' || r.state === 'failed');
  }, 60_000);
  assert.ok(done, `jobs ended: ${JSON.stringify(rows)}`);
  return new Map(rows.map((r) => [r.id, r]));
}

before(async () => {
  await fx.start();
  // a real distributed run: least-privilege accounts, odd names, every kind of index step
  await fx.newTarget(TASK);
  const w = await fx.startWorker();
  const run = await fx.runCoordinator(TASK, ['--index-jobs', '2'], () => {});
  await fx.stopWorker(w);
  assert.equal(run.code, 0, run.stderr);
  await fx.assertSameRows(TASK);
  assertNoPassword([await fx.controlDump(), JSON.stringify(run.events), run.stderr, ...w.out]);
  // the attacker's setting: the task marked running again, with a snapshot that is alive
  snapshotHolder = new pg.Client({ connectionString: fx.srcUrl });
  await snapshotHolder.connect();
  await snapshotHolder.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  const snap = (await snapshotHolder.query<{ s: string }>('SELECT pg_export_snapshot() AS s')).rows[0].s;
  await withClient(ctl(), async (c) => {
    await c.query(`UPDATE pgferry_control.task SET running = true, snapshot = $2 WHERE task_id = $1`, [TASK, snap]);
    await c.query(`INSERT INTO pgferry_control.index_slot (task_id, slot) VALUES ($1, 1) ON CONFLICT DO NOTHING`, [
      TASK,
    ]);
  });
  // somewhere for the forged copy to land, so that nothing on the target stops the source's statements
  await withClient(fx.targetUrl(TASK), (c) => c.query('CREATE TABLE app.landing (id int, payload text)'));
});

test('the index steps of a real run (odd names, PK/UNIQUE, EXCLUDE, comments, CLUSTER ON, partitions) are on the target', async () => {
  const defs = await withClient(fx.targetUrl(TASK), (c) =>
    c.query<{ d: string }>(
      `SELECT pg_get_indexdef(i.indexrelid) || coalesce(' -- ' || obj_description(i.indexrelid, 'pg_class'), '')
              || CASE WHEN i.indisclustered THEN ' clustered' ELSE '' END AS d
         FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'app' ORDER BY 1`,
    ),
  );
  const src = await withClient(fx.src.url('shop'), (c) =>
    c.query<{ d: string }>(
      `SELECT pg_get_indexdef(i.indexrelid) || coalesce(' -- ' || obj_description(i.indexrelid, 'pg_class'), '')
              || CASE WHEN i.indisclustered THEN ' clustered' ELSE '' END AS d
         FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'app' ORDER BY 1`,
    ),
  );
  assert.deepEqual(defs.rows, src.rows);
  assert.equal(src.rows.length, 12, JSON.stringify(src.rows));
});

test('forged jobs in the control database run no SQL of their own on the source or the target', async () => {
  const queue = queueOf(TASK);
  const real = await withClient(ctl(), (c) =>
    c.query<{ data: { taskId: string; members: Record<string, any>[] } }>(
      `SELECT data FROM pgferry_jobs.job WHERE name = $1 AND data->'members'->0->'unit'->'table'->>'key' = 'app.big'
        LIMIT 1`,
      [queue],
    ),
  );
  const job = real.rows[0].data;
  const member = job.members[0];
  const asUnit = (unit: Record<string, unknown>, where?: string) => ({
    taskId: TASK,
    members: [
      {
        ...member,
        freezeOk: false,
        unit: {
          ...member.unit,
          ...unit,
          table: {
            ...member.unit.table,
            target: { schema: 'app', name: 'landing' },
            ...(where ? { where } : {}),
          },
        },
      },
    ],
  });
  const injected = "1,0)'::tid) TO STDOUT; COMMIT; SELECT app.tattle('copy job'); --";
  const ids = [
    // a block number that is SQL: before, the worker ran it on the source (outside the read-only copy)
    await forge(queue, asUnit({ id: 'app.big#f1', of: 2, start: 0, end: injected })),
    // a row filter calling a function that acts on the server: refused by checkRowFilter on the worker
    await forge(queue, asUnit({ id: 'app.big#f2' }, `pg_advisory_lock(4711) IS NOT NULL`)),
  ];
  const index = indexQueueOf(TASK);
  let n = 0;
  const stmt = (sql: string) => ({
    key: `index app.forged${++n}`,
    kind: 'index',
    name: 'app.forged',
    section: 'early',
    sql,
  });
  const target = { schema: 'app', name: 'big' };
  ids.push(
    // an index step with a statement of its own after the index
    await forge(index, {
      taskId: TASK,
      table: 'app.big',
      target,
      stmt: stmt('CREATE INDEX forged ON app.big (id); CREATE TABLE app.pwned (x int)'),
    }),
    // a statement that is no index step at all
    await forge(index, { taskId: TASK, table: 'app.big', target, stmt: stmt('DROP TABLE app.small') }),
    // a group whose step adds a CHECK constraint calling a function
    await forge(index, {
      taskId: TASK,
      table: '',
      group: [
        {
          table: 'app.big',
          target,
          analyze: false,
          stmts: [stmt(`ALTER TABLE ONLY app.big ADD CONSTRAINT forged CHECK (app.tattle('index job') = 1)`)],
        },
      ],
    }),
  );
  worker = await fx.startWorker();
  const states = await finalStates(ids);
  await fx.stopWorker(worker);
  const out = worker.out.join('\n');
  worker = undefined;
  // nothing ran on the source…
  const traces = await withClient(fx.src.url('shop'), (c) => c.query('SELECT what FROM app.tattle_log'));
  assert.deepEqual(traces.rows, []);
  // …nor on the target
  const tgt = await withClient(fx.targetUrl(TASK), (c) =>
    c.query(`SELECT to_regclass('app.pwned') AS pwned, to_regclass('app.forged') AS forged,
                    (SELECT count(*)::int FROM app.small) AS small, (SELECT count(*)::int FROM app.landing) AS landed,
                    (SELECT count(*)::int FROM pg_constraint WHERE conname = 'forged') AS checks,
                    (SELECT count(*)::int FROM app.tattle_log) AS traces`),
  );
  assert.deepEqual(tgt.rows[0], { pwned: null, forged: null, small: 100, landed: 0, checks: 0, traces: 0 });
  for (const id of ids) {
    const s = states.get(id)!;
    assert.equal(s.state, 'failed', JSON.stringify(s));
    assert.match(s.output.message ?? '', /refused/, JSON.stringify(s));
  }
  assert.match(out, /was refused: unit app.big#f1: end block/);
  assert.match(out, /DropStmt is not an index step/);
});

test('a worker given the control password on its command line shows no password in its process title', async () => {
  const url = fx.tgt.url('ctl', fx.tgtRole, TGT_PW);
  const child = spawn(process.execPath, ['bin/pgferry.js', 'worker', '--json', '--jobs', '1', '--control', url], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...fx.env(), PGPASSFILE: '/nonexistent' },
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise((res) => child.on('close', res));
  try {
    assert.ok(await until(async () => /copying units of running tasks/.test(out), 30_000), out);
    const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').replaceAll('\u0000', ' ');
    assert.match(cmdline, /^pgferry worker/);
    assertNoPassword([cmdline, out]);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
  assertNoPassword([out]);
});

test('a table with such names, split into units, with its worker killed (SIGKILL) in one of them: its rows land once', async () => {
  await fx.newTarget('oddkill');
  const units = await withClient(fx.targetUrl(TASK), (c) =>
    c.query(`SELECT count(*)::int AS n FROM pgferry.unit WHERE table_name = $1`, [`app.${WEIRD}`]),
  );
  assert.ok(units.rows[0].n > 1, `the table is split: ${units.rows[0].n} units`);
  const { run, killedAt, taker } = await fx.killWhileRunning('oddkill', `COPY app.${WEIRD.replaceAll('_', '\\_')}%`, [
    '--max-rows-per-sec',
    '6000',
  ]);
  assert.equal(run.code, 0, run.stderr);
  assert.ok(killedAt > 0 && taker, 'the worker was killed inside a unit of the table');
  await fx.assertSameRows('oddkill');
  const dup = await withClient(fx.targetUrl('oddkill'), (c) =>
    c.query(`SELECT unit_id FROM pgferry.unit GROUP BY unit_id HAVING count(*) > 1`),
  );
  assert.equal(dup.rowCount, 0);
});

test('index jobs marked completed in the control database without running: the coordinator stops naming them; a rerun builds them', async () => {
  await fx.newTarget('faked');
  const index = indexQueueOf('faked');
  // the attacker (or a broken tool): no worker may take an index job, and every one is marked done at once
  let faking = true;
  const faker = (async () => {
    while (faking) {
      await withClient(ctl(), async (c) => {
        await c.query(`DELETE FROM pgferry_control.index_slot WHERE task_id = 'faked'`);
        await c.query(
          `UPDATE pgferry_jobs.job SET state = 'completed', completed_on = now(), output = '{"ran": true, "worker": "nobody", "durationMs": 1}'
            WHERE name = $1 AND state < 'completed'`,
          [index],
        );
      }).catch(() => {});
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const w = await fx.startWorker();
  const run = await fx.runCoordinator('faked', ['--index-jobs', '1'], () => {});
  faking = false;
  await faker;
  await fx.stopWorker(w);
  const faked = await withClient(ctl(), (c) =>
    c.query(`SELECT count(*)::int AS n FROM pgferry_jobs.job WHERE name = $1 AND output->>'worker' = 'nobody'`, [
      index,
    ]),
  );
  const idx = await withClient(fx.targetUrl('faked'), (c) =>
    c.query(`SELECT count(*)::int AS n FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
              JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'app'`),
  );
  assert.ok(faked.rows[0].n > 0, 'index jobs were marked done without running');
  // the coordinator does not take the control database's word for it: the steps' checkpoints are not on the target
  assert.equal(run.code, 1, run.stderr);
  assert.match(
    run.stderr + JSON.stringify(run.events),
    /is marked completed in the control database, but the target has no checkpoint of .*: it did not run there/,
  );
  assert.ok(idx.rows[0].n < 12, `indexes on the target: ${idx.rows[0].n}`);
  // the same command again (nobody faking): the steps' checkpoints are not on the target, so they run now
  const w2 = await fx.startWorker();
  const again = await fx.runCoordinator('faked', ['--index-jobs', '1'], () => {});
  await fx.stopWorker(w2);
  assert.equal(again.code, 0, again.stderr);
  const after = await withClient(fx.targetUrl('faked'), (c) =>
    c.query(`SELECT count(*)::int AS n FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
              JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'app'`),
  );
  assert.equal(after.rows[0].n, 12);
  await fx.assertSameRows('faked');
});

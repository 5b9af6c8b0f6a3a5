// pgferry's checkpoint schema never collides with user data: a source schema named pgferry is
// migrated like any other (with the checkpoints elsewhere, --state-schema), a target schema of
// the checkpoint name that pgferry did not create is refused, and finish removes only the
// finished task's checkpoints. Migrations run as non-superusers on both sides.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { finishTask } from '../../src/cli/commands/finish.js';
import { exitCodeFor } from '../../src/cli/exit.js';
import { PgferryError } from '../../src/core/errors.js';
import { readStatus } from '../../src/stages/report/status.js';
import { ensureCheckpoints, markUnitDone, useStateSchema } from '../../src/state/checkpoint.js';
import { validateTask } from '../../src/core/config.js';
import { EventBus } from '../../src/core/events.js';
import { migrate } from '../../src/engine/runner.js';
import { StateDir } from '../../src/state/state-dir.js';
import { withClient } from '../helpers/compare.js';

let srv: Cluster;
const stateDir = mkdtempSync(join(tmpdir(), 'pgferry-stateschema-'));
const io = () => ({
  lines: [] as string[],
  log(t: string) {
    this.lines.push(t);
  },
  confirm: async () => false,
});
const digest = (url: string, table: string) =>
  withClient(url, (c) =>
    c.query<{ d: string }>(
      `SELECT count(*) || ':' || md5(string_agg(t::text, ',' ORDER BY t::text)) AS d FROM ${table} t`,
    ),
  ).then((r) => r.rows[0].d);
const schemas = (url: string) =>
  withClient(url, (c) =>
    c.query<{ nspname: string }>(
      `SELECT nspname FROM pg_namespace WHERE nspname !~ '^(pg_|information_schema)' ORDER BY 1`,
    ),
  ).then((r) => r.rows.map((x) => x.nspname));

before(async () => {
  srv = await startCluster({ version: 15, name: 'pgferry-stateschema' });
  await withClient(srv.url(), async (c) => {
    await c.query(`CREATE ROLE reader LOGIN; CREATE ROLE mover LOGIN`);
    await c.query(`CREATE DATABASE src`);
    for (const db of ['t_default', 't_other', 't_foreign', 't_finish', 't_chain'])
      await c.query(`CREATE DATABASE ${db} OWNER mover`);
  });
  await withClient(srv.url('src'), (c) =>
    c.query(`
    CREATE SCHEMA pgferry; CREATE SCHEMA app;
    CREATE TABLE pgferry.jobs (id int PRIMARY KEY, what text);
    INSERT INTO pgferry.jobs SELECT g, 'job ' || g FROM generate_series(1, 25) g;
    CREATE TABLE app.items (id serial PRIMARY KEY, v text);
    INSERT INTO app.items (v) SELECT 'i' || g FROM generate_series(1, 40) g;
    GRANT USAGE ON SCHEMA pgferry, app TO reader;
    GRANT SELECT ON ALL TABLES IN SCHEMA pgferry, app TO reader; GRANT SELECT ON ALL SEQUENCES IN SCHEMA app TO reader;`),
  );
  // a user schema named pgferry on the target, with the user's data
  await withClient(srv.url('t_foreign', 'mover'), (c) =>
    c.query(`CREATE SCHEMA pgferry; CREATE TABLE pgferry.mine (x int); INSERT INTO pgferry.mine VALUES (1), (2)`),
  );
});
after(async () => {
  await srv?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

const task = (name: string, db: string, extra: Record<string, unknown> = {}) =>
  validateTask({
    name,
    source: srv.url('src', 'reader'),
    target: srv.url(db, 'mover'),
    stateDir,
    noOwner: true,
    verify: 'count',
    ...extra,
  });

function refusedFor(schema: string, source?: string) {
  return (e: unknown) => {
    assert.ok(e instanceof PgferryError && e.kind === 'precheck', String(e));
    assert.equal(exitCodeFor(e), 4);
    assert.match(
      e.message,
      new RegExp(
        `state\\.schema: .*${source ? `would be created as ${schema}` : `target schema ${schema} exists and was not created by pgferry`}`,
      ),
    );
    return true;
  };
}

describe('checkpoint schema', () => {
  test('a source schema named pgferry: refused onto the default checkpoint schema, migrated with --state-schema', async () => {
    await assert.rejects(
      migrate(task('s1', 't_default'), { events: new EventBus() }),
      refusedFor('pgferry', 'pgferry'),
    );
    assert.deepEqual(await schemas(srv.url('t_default')), ['public'], 'nothing written');
    const r = await migrate(task('s2', 't_other', { stateSchema: 'ferry_state' }), { events: new EventBus() });
    assert.equal(r.verify?.ok, true);
    assert.equal(await digest(srv.url('t_other'), 'pgferry.jobs'), await digest(srv.url('src'), 'pgferry.jobs'));
    assert.equal(await digest(srv.url('t_other'), 'app.items'), await digest(srv.url('src'), 'app.items'));
    assert.deepEqual(await schemas(srv.url('t_other')), ['app', 'ferry_state', 'pgferry', 'public']);
    const st = await readStatus(new StateDir(stateDir, 's2'));
    assert.equal(st.checkpoint?.status, 'done');
    assert.equal(st.checkpoint?.rows, 65);
    // that target as the next source: its user schema pgferry moves on, pgferry's own checkpoint schema does not
    const chain = validateTask({
      name: 's3',
      source: srv.url('t_other'),
      target: srv.url('t_chain', 'mover'),
      stateDir,
      noOwner: true,
      noAcl: true,
      verify: 'count',
      stateSchema: 'ferry_state',
    });
    const r3 = await migrate(chain, { events: new EventBus() });
    assert.equal(r3.verify?.ok, true);
    assert.equal(await digest(srv.url('t_chain'), 'pgferry.jobs'), await digest(srv.url('src'), 'pgferry.jobs'));
    const tasks = await withClient(srv.url('t_chain'), (c) =>
      c.query<{ task_id: string }>('SELECT task_id FROM ferry_state.task'),
    );
    assert.deepEqual(
      tasks.rows.map((x) => x.task_id),
      ['s3'],
    );
  });

  test('a target schema of the checkpoint name that pgferry did not create is refused and left alone', async () => {
    const url = srv.url('t_foreign', 'mover');
    await assert.rejects(
      migrate(task('f1', 't_foreign', { includeSchemas: ['app'] }), { events: new EventBus() }),
      refusedFor('pgferry'),
    );
    // the runtime guard says the same when the precheck is skipped
    await assert.rejects(
      migrate(task('f2', 't_foreign', { includeSchemas: ['app'] }), { events: new EventBus(), skipPrecheck: true }),
      (e: unknown) =>
        e instanceof PgferryError &&
        e.kind === 'state' &&
        /--state-schema <other>.*--map-schema pgferry=<new>/s.test(`${e.message} ${e.hint}`),
    );
    const r = await migrate(task('f3', 't_foreign', { includeSchemas: ['app'], stateSchema: 'ferry_state' }), {
      events: new EventBus(),
    });
    assert.equal(r.verify?.ok, true);
    assert.equal(
      await digest(url, 'pgferry.mine'),
      '2:' + (await withClient(url, (c) => c.query(`SELECT md5('(1),(2)') AS m`))).rows[0].m,
    );
    const fin = await finishTask({ task: 'f3', stateDir, target: url, stateSchema: 'pgferry' }, io());
    assert.equal(fin.droppedSchema, false, 'finish leaves a schema pgferry did not create');
    assert.deepEqual(await schemas(url), ['app', 'ferry_state', 'pgferry', 'public']);
    const fin2 = await finishTask({ task: 'f3', stateDir, target: url }, io());
    assert.equal(fin2.droppedSchema, true, 'the schema recorded by the task is found without --state-schema');
    assert.deepEqual(await schemas(url), ['app', 'pgferry', 'public']);
  });

  test("finish removes only the finished task's checkpoints; the schema goes with the last task", async () => {
    const url = srv.url('t_finish', 'mover');
    await withClient(url, async (c) => {
      for (const t of ['one', 'two']) {
        useStateSchema(t, 'Ferry State');
        await ensureCheckpoints(c, t, 'x');
        await markUnitDone(c, { taskId: t, unitId: 'u1', table: 'app.items', rows: 1, bytes: 1, snapshot: null });
      }
    });
    const count = () =>
      withClient(url, (c) =>
        c.query<{ task_id: string; n: string }>(
          `SELECT task_id, count(*)::text AS n FROM "Ferry State".unit GROUP BY 1 ORDER BY 1`,
        ),
      ).then((r) => r.rows.map((x) => `${x.task_id}:${x.n}`));
    const one = await finishTask({ task: 'one', stateDir, target: url, stateSchema: 'Ferry State' }, io());
    assert.deepEqual([one.removedTasks, one.tasksLeft, one.droppedSchema], [['one'], ['two'], false]);
    assert.deepEqual(await count(), ['two:1']);
    const two = await finishTask({ task: 'two', stateDir, target: url, stateSchema: 'Ferry State' }, io());
    assert.deepEqual([two.removedTasks, two.tasksLeft, two.droppedSchema], [['two'], [], true]);
    assert.deepEqual(await schemas(url), ['public']);
  });
});

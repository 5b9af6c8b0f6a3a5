// The checkpoint schema's layout is versioned by numbered migrations: a fresh schema gets every
// step, a schema written by the pgferry before numbered migrations (marked or not) upgrades in
// place keeping its rows, a newer layout is refused, and two sessions migrating at once apply each
// step once. The target account owns the database and is no superuser.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { readSnapshotRecord, recordSnapshot } from '../../src/stages/data/copy/planstore.js';
import { resetTableTarget } from '../../src/stages/data/copy/recopy.js';
import { PgferryError } from '../../src/core/errors.js';
import { latestVersion } from '../../src/state/migrate.js';
import { CHECKPOINT_SET } from '../../src/state/migrations.js';
import {
  doneObjects,
  doneUnits,
  ensureCheckpoints,
  readTask,
  STATE_FORMAT,
  useStateSchema,
} from '../../src/state/checkpoint.js';
import { runPrecheck } from '../../src/stages/precheck/index.js';
import { validateTask } from '../../src/core/config.js';
import { copyTable } from '../copy/helpers.js';
import { withClient } from '../helpers/compare.js';
import { qualify } from '../../src/core/ident.js';

let srv: Cluster;
const DBS = ['m_fresh', 'm_old', 'm_legacy', 'm_newer', 'm_race', 'm_named'];
before(async () => {
  srv = await startCluster({ version: 15, name: 'pgferry-migrations' });
  await withClient(srv.url(), async (c) => {
    await c.query(`CREATE ROLE mover LOGIN; CREATE ROLE reader LOGIN`);
    for (const db of DBS) await c.query(`CREATE DATABASE ${db} OWNER mover`);
    await c.query(`CREATE DATABASE src`);
  });
  await withClient(srv.url('src'), (c) => c.query(`CREATE TABLE app_t (id int); GRANT SELECT ON app_t TO reader`));
});
after(async () => {
  await srv?.stop();
});

const url = (db: string) => srv.url(db, 'mover');

/** The precheck item on the checkpoint schema, for a run into `db`. */
async function stateItem(db: string) {
  const r = await runPrecheck(validateTask({ source: srv.url('src', 'reader'), target: url(db), noOwner: true }));
  const item = r.items.find((i) => i.id === 'state.schema');
  assert.ok(item, 'state.schema item present');
  return item;
}

/** The checkpoint schema exactly as the pgferry before numbered migrations created it (format 1). */
const OLD_TABLES = `
CREATE TABLE pgferry.task (task_id text PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(), status text NOT NULL DEFAULT 'running', phase text,
  snapshot text, source text, info jsonb NOT NULL DEFAULT '{}');
CREATE TABLE pgferry.unit (task_id text NOT NULL, unit_id text NOT NULL, table_name text NOT NULL,
  rows bigint NOT NULL, bytes bigint NOT NULL, snapshot text,
  done_at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (task_id, unit_id));
CREATE TABLE pgferry.object (task_id text NOT NULL, object_key text NOT NULL, kind text NOT NULL,
  section text NOT NULL, done_at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (task_id, object_key));
INSERT INTO pgferry.task (task_id, status, phase, snapshot, source) VALUES ('old', 'failed', 'data', 'snap-1', 'src');
INSERT INTO pgferry.unit (task_id, unit_id, table_name, rows, bytes, snapshot)
  SELECT 'old', 'public.t#' || g * 100, 'public.t', 10, 100, 'snap-1' FROM generate_series(0, 49) g;
INSERT INTO pgferry.object (task_id, object_key, kind, section)
  SELECT 'old', 'table public.t' || g, 'table', 'pre-data' FROM generate_series(1, 30) g;`;
const OLD_MARKED = `CREATE SCHEMA pgferry;
COMMENT ON SCHEMA pgferry IS 'pgferry migration checkpoints; remove with: pgferry finish --state-schema pgferry';
CREATE TABLE pgferry.format (version int NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
COMMENT ON TABLE pgferry.format IS 'pgferry checkpoint schema marker';
INSERT INTO pgferry.format (version) VALUES (1);
${OLD_TABLES}
CREATE TABLE pgferry.unit_plan (task_id text NOT NULL, table_name text NOT NULL, boundaries int8[] NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (task_id, table_name));
INSERT INTO pgferry.unit_plan (task_id, table_name, boundaries) VALUES ('old', 'public.t', '{0,100,200}');`;
const OLD_UNMARKED = `CREATE SCHEMA pgferry;
COMMENT ON SCHEMA pgferry IS 'pgferry migration checkpoints; remove with: pgferry finish';
${OLD_TABLES}`;

const versions = (db: string, schema = 'pgferry') =>
  withClient(url(db), (c) =>
    c.query<{ version: number }>(`SELECT version FROM ${qualify(schema, 'format')} ORDER BY version`),
  ).then((r) => r.rows.map((x) => x.version));
const hasUnitPlan = (db: string) =>
  withClient(url(db), (c) => c.query(`SELECT to_regclass('pgferry.unit_plan') IS NOT NULL AS ok`)).then(
    (r) => r.rows[0].ok as boolean,
  );

async function assertOldRowsKept(db: string): Promise<void> {
  await withClient(url(db), async (c) => {
    useStateSchema('old', undefined);
    const units = await doneUnits(c, 'old');
    assert.equal(units.size, 50);
    assert.equal(units.get('public.t#4900')?.rows, '10');
    assert.equal((await doneObjects(c, 'old')).size, 30);
    const t = await readTask(c, 'old');
    assert.equal(t?.snapshot, 'snap-1');
    assert.equal(t?.phase, 'data');
  });
}

/** Every numbered step, 1…latest: what a schema brought up to date has applied. */
const ALL_STEPS = CHECKPOINT_SET.migrations.map((m) => m.version);

describe('checkpoint schema migrations', () => {
  test('the latest version is the last numbered step, numbered 1, 2, 3… without gaps', () => {
    assert.equal(STATE_FORMAT, latestVersion(CHECKPOINT_SET));
    assert.deepEqual(
      CHECKPOINT_SET.migrations.map((m) => m.version),
      CHECKPOINT_SET.migrations.map((_, i) => i + 1),
    );
  });

  test('a fresh schema gets every step, each version recorded', async () => {
    await withClient(url('m_fresh'), (c) => ensureCheckpoints(c, 'fresh', 'src'));
    assert.deepEqual(
      await versions('m_fresh'),
      CHECKPOINT_SET.migrations.map((m) => m.version),
    );
    assert.equal(await hasUnitPlan('m_fresh'), true);
    await withClient(url('m_fresh'), (c) => ensureCheckpoints(c, 'fresh', 'src'));
    const all = CHECKPOINT_SET.migrations.map((m) => m.version);
    assert.deepEqual(await versions('m_fresh'), all, 'rerun applies nothing');
  });

  test('a schema created by the earlier layout (format 1) upgrades in place, rows kept', async () => {
    await withClient(url('m_old'), (c) => c.query(OLD_MARKED));
    const item = await stateItem('m_old');
    assert.equal(item.result, 'passed');
    assert.match(item.message, new RegExp(`its format 1 will be upgraded to ${STATE_FORMAT}`));
    assert.deepEqual(await versions('m_old'), [1], 'precheck writes nothing');
    await withClient(url('m_old'), (c) => ensureCheckpoints(c, 'new', 'src'));
    assert.deepEqual(await versions('m_old'), ALL_STEPS);
    await assertOldRowsKept('m_old');
    const plans = await withClient(url('m_old'), (c) => c.query(`SELECT boundaries::text AS b FROM pgferry.unit_plan`));
    assert.deepEqual(plans.rows, [{ b: '{0,100,200}' }]);
    const idx = await withClient(url('m_old'), (c) =>
      c.query(`SELECT to_regclass('pgferry.unit_task_table') IS NOT NULL AS ok`),
    );
    assert.equal(idx.rows[0].ok, true);
  });

  test('a schema from before the marker (no format table, no unit_plan) upgrades in place, rows kept', async () => {
    await withClient(url('m_legacy'), (c) => c.query(OLD_UNMARKED));
    await withClient(url('m_legacy'), (c) => ensureCheckpoints(c, 'new', 'src'));
    assert.deepEqual(await versions('m_legacy'), ALL_STEPS);
    assert.equal(await hasUnitPlan('m_legacy'), true);
    await assertOldRowsKept('m_legacy');
  });

  test('a newer layout is refused, naming the versions, and nothing is written', async () => {
    await withClient(url('m_newer'), (c) => ensureCheckpoints(c, 'a', 'src'));
    const newer = STATE_FORMAT + 1;
    await withClient(url('m_newer'), (c) => c.query(`INSERT INTO pgferry.format (version) VALUES ($1)`, [newer]));
    await assert.rejects(
      withClient(url('m_newer'), (c) => ensureCheckpoints(c, 'b', 'src')),
      (e: unknown) => {
        assert.ok(e instanceof PgferryError && e.kind === 'state');
        assert.match(
          e.message,
          new RegExp(`has format ${STATE_FORMAT + 1}, newer than this pgferry's ${STATE_FORMAT}`),
        );
        assert.match(e.hint ?? '', /pgferry version that started it/);
        return true;
      },
    );
    const item = await stateItem('m_newer');
    assert.equal(item.result, 'failed');
    assert.match(item.message, new RegExp(`has format ${STATE_FORMAT + 1}, newer than this pgferry's ${STATE_FORMAT}`));
    const n = await withClient(url('m_newer'), (c) =>
      c.query(`SELECT count(*)::int AS n FROM pgferry.task WHERE task_id = $1`, ['b']),
    );
    assert.equal(n.rows[0].n, 0);
  });

  test('sessions migrating at once apply each step once (advisory lock)', async () => {
    await withClient(url('m_race'), (c) => c.query(OLD_MARKED));
    const claim = (t: string) => withClient(url('m_race'), (c) => ensureCheckpoints(c, t, 'src'));
    await Promise.all(['r1', 'r2', 'r3', 'r4'].map(claim));
    assert.deepEqual(await versions('m_race'), ALL_STEPS);
    await assertOldRowsKept('m_race');
  });

  test("snapshot records and table resets use the task's own state schema", async () => {
    useStateSchema('named', 'ferry_state');
    await withClient(url('m_named'), async (c) => {
      await c.query(`CREATE TABLE public.t (id int)`);
      await ensureCheckpoints(c, 'named', 'src');
      await recordSnapshot(c, 'named', { id: 'snap-a', lineage: 'line-a' });
      assert.deepEqual(await readSnapshotRecord(c, 'named'), { id: 'snap-a', lineage: 'line-a' });
      await c.query(`INSERT INTO ferry_state.unit (task_id, unit_id, table_name, rows, bytes)
        VALUES ('named', 'public.t#0', 'public.t', 1, 1)`);
      await resetTableTarget(c, 'named', copyTable('public', 't', [{ name: 'id', type: 'integer' }], false));
      assert.equal((await doneUnits(c, 'named')).size, 0);
    });
    assert.deepEqual(await versions('m_named', 'ferry_state'), ALL_STEPS);
  });
});

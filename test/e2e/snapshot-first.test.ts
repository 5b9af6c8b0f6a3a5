// The run reads the source at one point in time: the snapshot is opened before the schema phase,
// and the catalog, the copy list, the sequences and every copy worker read in it. Between the
// schema and the data phase (the listener runs synchronously inside the run) another session adds
// and deletes rows, updates rows and creates a filled table on the source: the target equals the
// source as it was before (rows of the snapshot only; the late table neither listed nor copied).
// Run as a superuser source and as a source account with CONNECT/USAGE/SELECT only (target: the
// owner of the target database, no superuser).
import { after, before, test } from 'node:test';
import pg from 'pg';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binDirFor, startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { validateTask } from '../../src/core/config.js';
import { EventBus, type TimedEvent } from '../../src/core/events.js';
import { migrate } from '../../src/engine/runner.js';
import { tableHashes, withClient } from '../helpers/compare.js';
import { passwordHba, sourceAccount, targetAccount } from '../embed/accounts.js';
import { writesBetweenReads } from '../helpers/between-reads.js';
import { readPlan } from '../../src/cli/commands/plan.js';
import { resolveConnSpec } from '../../src/pg/connstring.js';
import { Selection } from '../../src/core/selection.js';

let src: Cluster;
let tgt: Cluster;
const stateDir = mkdtempSync(join(tmpdir(), 'pgferry-snapfirst-'));

before(async () => {
  [src, tgt] = await Promise.all([
    startCluster({ version: 15, name: 'pgferry-snapfirst', hba: passwordHba(['snap_src']) }),
    startCluster({ version: 17, name: 'pgferry-snapfirst', hba: passwordHba(['snap_tgt']) }),
  ]);
});
after(async () => {
  await Promise.all([src?.stop(), tgt?.stop()]);
  rmSync(stateDir, { recursive: true, force: true });
});

const SOURCE_SQL = `
CREATE SCHEMA app;
CREATE TABLE app.items (id serial PRIMARY KEY, note text NOT NULL);
CREATE TABLE app.events (id int, kind text);
INSERT INTO app.items (note) SELECT 'item ' || g FROM generate_series(1, 3000) g;
INSERT INTO app.events SELECT g, 'k' || (g % 7) FROM generate_series(1, 2000) g;
ANALYZE;`;

/** Another session's writes, run synchronously (psql) so that they land exactly between the phases. */
const CONCURRENT_SQL = `
INSERT INTO app.items (note) SELECT 'late ' || g FROM generate_series(1, 500) g;
DELETE FROM app.events WHERE id <= 100;
UPDATE app.events SET kind = 'changed' WHERE id > 1900;
CREATE TABLE app.late (id int, v text);
INSERT INTO app.late SELECT g, 'v' FROM generate_series(1, 50) g;
GRANT SELECT ON app.late TO PUBLIC;`;

function psql(url: string, sqlText: string): void {
  execFileSync(join(binDirFor(15), 'psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', sqlText], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

async function tableNames(url: string): Promise<string[]> {
  return withClient(url, async (c) => {
    const r = await c.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'app' ORDER BY 1`);
    return r.rows.map((x) => x.tablename as string);
  });
}

for (const account of ['superuser', 'least-privilege'] as const) {
  test(`${account} source: writes between the schema and the data phase are not copied`, async () => {
    const db = account === 'superuser' ? 'snap_su' : 'snap_lp';
    await withClient(src.url(), (c) => c.query(`CREATE DATABASE ${db}`));
    await withClient(src.url(db), (c) => c.query(SOURCE_SQL));
    const sourceUrl =
      account === 'superuser' ? src.url(db) : await sourceAccount(src, db, 'snap_src', 'Snap-src-pw-4471', ['app']);
    const targetUrl =
      account === 'superuser'
        ? (await withClient(tgt.url(), (c) => c.query(`CREATE DATABASE ${db}`)), tgt.url(db))
        : await targetAccount(tgt, db, 'snap_tgt', 'Snap-tgt-pw-9120');
    const asOfSnapshot = await tableHashes(src.url(db));
    const tablesBefore = await tableNames(src.url(db));

    const events = new EventBus();
    let wrote = false;
    events.on((e: TimedEvent) => {
      if (e.type !== 'phase-end' || e.phase !== 'schema' || !e.ok) return;
      psql(src.url(db), CONCURRENT_SQL);
      wrote = true;
    });
    const task = validateTask({
      name: db,
      source: sourceUrl,
      target: targetUrl,
      stateDir,
      jobs: 2,
      verify: 'none',
      noOwner: true,
      noAcl: true,
    });
    const result = await migrate(task, { events });
    assert.ok(wrote, 'the concurrent session wrote between the phases');

    assert.deepEqual(
      result.copy?.tables.map((t) => t.key).sort(),
      ['app.events', 'app.items'],
      'the copy list is the catalog as of the snapshot',
    );
    assert.deepEqual(await tableNames(targetUrl), tablesBefore, 'no table created after the snapshot');
    assert.deepEqual(await tableHashes(targetUrl), asOfSnapshot, 'rows as of the snapshot');
    assert.notDeepEqual(await tableHashes(src.url(db)), asOfSnapshot, 'the source did change meanwhile');
  });
}

/** Statements sent to the source on `port` while `fn` runs (every session of the process). */
async function sourceStatements(port: number, fn: () => Promise<unknown>): Promise<string[]> {
  const proto = pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown };
  const original = proto.query;
  const seen: string[] = [];
  proto.query = function (this: pg.Client, ...args: unknown[]) {
    const q = args[0];
    const text = typeof q === 'string' ? q : (q as { text?: string } | undefined)?.text;
    if (this.port === port && typeof text === 'string') seen.push(text);
    return original.apply(this, args);
  };
  try {
    await fn();
  } finally {
    proto.query = original;
  }
  return seen;
}

test('the catalog is read once per run: the precheck, the schema and the copy list share the read', async () => {
  const db = 'snap_count';
  await withClient(src.url(), (c) => c.query(`CREATE DATABASE ${db}`));
  await withClient(src.url(db), (c) => c.query(SOURCE_SQL));
  await withClient(tgt.url(), (c) => c.query(`CREATE DATABASE ${db}`));
  const task = validateTask({ name: db, source: src.url(db), target: tgt.url(db), stateDir, jobs: 2, verify: 'none' });
  const statements = await sourceStatements(src.port, () => migrate(task, { events: new EventBus() }));
  // A whole catalog read runs the catalog's table query (src/stages/schema/catalog/sql/tables.ts) once.
  const catalogReads = statements.filter((s) => s.includes('AS force_rls')).length;
  // Statements listing the source's tables: the catalog's, the facts', and any other list of them.
  const tableLists = statements.filter((s) => /WHERE c\.relkind (IN \('r', 'p'\)|= 'r')/.test(s)).length;
  console.log(`source statements: ${statements.length}, catalog reads: ${catalogReads}, table lists: ${tableLists}`);
  assert.equal(catalogReads, 1, 'one catalog read per run');
});

test('plan reads the source in one transaction: DDL committed between its reads is in none of them', async () => {
  const db = 'snap_plan';
  await withClient(src.url(), (c) => c.query(`CREATE DATABASE ${db}`));
  await withClient(src.url(db), (c) => c.query(SOURCE_SQL));
  const sel = new Selection(validateTask({ source: src.url(db), target: src.url(db), verify: 'none' }));
  const { result: plan, wrote } = await writesBetweenReads(
    {
      port: src.port,
      match: /AS force_rls/,
      url: src.url(db),
      sql: `SET lock_timeout = '10s'; CREATE TABLE app.late (id int PRIMARY KEY); ALTER TABLE app.items ADD COLUMN extra int;`,
    },
    () => readPlan(resolveConnSpec(src.url(db)), sel),
  );
  assert.ok(wrote, 'the other session wrote during the plan');
  assert.deepEqual(plan.tables.map((t) => t.key).sort(), ['app.events', 'app.items'], 'copy list');
  assert.deepEqual(
    plan.tables.find((t) => t.key === 'app.items')?.columns.map((c) => c.source),
    ['id', 'note'],
    'columns of the copy list',
  );
  const tableObjects = plan.gen.objects.filter((o) => o.kind === 'table').map((o) => o.source);
  assert.deepEqual(tableObjects.sort(), ['app.events', 'app.items'], 'objects');
  assert.ok(!plan.gen.statements.some((s) => /\bextra\b/.test(s.sql)), 'no DDL for the later column');
});

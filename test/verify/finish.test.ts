import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { finishTask } from '../../src/cli/commands/finish.js';
import { PgferryError } from '../../src/core/errors.js';
import { ensureCheckpoints, markUnitDone } from '../../src/state/checkpoint.js';
import { EventBus } from '../../src/core/events.js';
import { openEventLog } from '../../src/state/eventlog.js';
import { StateDir } from '../../src/state/state-dir.js';
import { readStatus, renderStatus } from '../../src/stages/report/status.js';
import { buildReport, collectEvents, renderSummary, writeReport } from '../../src/stages/report/index.js';
import { withClient } from '../helpers/compare.js';

let tgt: Cluster;
let root: string;
const sleepers: ChildProcess[] = [];

const withDb = withClient;

function io() {
  const lines: string[] = [];
  return { lines, log: (t: string) => lines.push(t), confirm: async () => false };
}

/** A task state dir whose pid lock is held by a live process. */
function runningTask(name: string): ChildProcess {
  const p = spawn('sleep', ['60'], { stdio: 'ignore' });
  sleepers.push(p);
  mkdirSync(join(root, name), { recursive: true });
  writeFileSync(join(root, name, 'pid'), String(p.pid));
  return p;
}

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'pgferry-finish-state-'));
  tgt = await startCluster({ version: 15, name: 'pgferry-finish' });
});
after(async () => {
  for (const p of sleepers) p.kill();
  await tgt?.stop();
  rmSync(root, { recursive: true, force: true });
});

const pgferryObjects = (url: string) =>
  withDb(url, async (c) => {
    const r = await c.query<{ n: string }>(
      `SELECT (SELECT count(*) FROM pg_namespace WHERE nspname = 'pgferry') + (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'pgferry') AS n`,
    );
    return Number(r.rows[0].n);
  });

describe('finish', () => {
  test('drops every pgferry object on the target and prints account SQL', async () => {
    await withDb(tgt.url(), (c) => c.query('CREATE DATABASE f1'));
    const url = tgt.url('f1');
    await withDb(url, async (c) => {
      await ensureCheckpoints(c, 't1', 'postgresql://src/db');
      await markUnitDone(c, { taskId: 't1', unitId: 'u1', table: 'public.a', rows: 3, bytes: 10, snapshot: null });
    });
    assert.ok((await pgferryObjects(url)) > 0);
    const out = io();
    const r = await finishTask({ task: 't1', stateDir: root, target: url }, out);
    assert.equal(r.droppedSchema, true);
    assert.equal(await pgferryObjects(url), 0);
    // connected as the bootstrap superuser: nothing to drop, and said so
    assert.equal(r.accounts[0].statements.length, 0);
    assert.match(out.lines.join('\n'), /bootstrap superuser/);
    const again = await finishTask({ task: 't1', stateDir: root, target: url }, io());
    assert.equal(again.droppedSchema, false);
  });

  test('refuses while the task runs', async () => {
    await withDb(tgt.url(), (c) => c.query('CREATE DATABASE f2'));
    const url = tgt.url('f2');
    await withDb(url, (c) => ensureCheckpoints(c, 't2', 'x'));
    const p = runningTask('t2');
    try {
      for (const task of ['t2', undefined]) {
        await assert.rejects(finishTask({ task, stateDir: root, target: url }, io()), (e: unknown) => {
          assert.ok(e instanceof PgferryError);
          assert.equal(e.kind, 'state');
          assert.match(e.message, /still running \(pid \d+\)/);
          return true;
        });
      }
      assert.ok((await pgferryObjects(url)) > 0, 'checkpoints left in place');
    } finally {
      p.kill();
      rmSync(join(root, 't2'), { recursive: true, force: true });
    }
  });

  test('drops the migration account only through another role, after reassigning its objects', async () => {
    await withDb(tgt.url(), async (c) => {
      await c.query(`CREATE ROLE mig LOGIN; CREATE ROLE app`);
      await c.query(`CREATE DATABASE f3`);
      await c.query(`GRANT CREATE ON DATABASE f3 TO mig`);
    });
    const mig = tgt.url('f3', 'mig');
    await withDb(mig, async (c) => {
      await c.query(`CREATE SCHEMA shop; CREATE TABLE shop.orders (id int PRIMARY KEY)`);
      await ensureCheckpoints(c, 't3', 'x');
    });
    const printed = io();
    const plan = await finishTask({ task: 't3', stateDir: root, target: mig }, printed);
    assert.equal(plan.droppedSchema, true);
    const text = printed.lines.join('\n');
    assert.match(text, /REASSIGN OWNED BY mig TO <app_owner>;\nDROP OWNED BY mig;\nDROP ROLE mig;/);

    await assert.rejects(
      finishTask({ task: 't3', stateDir: root, target: mig, dropAccounts: true, yes: true }, io()),
      /cannot drop its own role/,
    );
    await assert.rejects(
      finishTask(
        { task: 't3', stateDir: root, target: mig, dropAccounts: true, yes: true, adminTarget: tgt.url('f3') },
        io(),
      ),
      /--app-owner/,
    );
    // without --yes and no terminal: not confirmed
    await assert.rejects(
      finishTask(
        { task: 't3', stateDir: root, target: mig, dropAccounts: true, adminTarget: tgt.url('f3'), appOwner: 'app' },
        io(),
      ),
      /not confirmed/,
    );
    const done = await finishTask(
      {
        task: 't3',
        stateDir: root,
        target: mig,
        dropAccounts: true,
        yes: true,
        adminTarget: tgt.url('f3'),
        appOwner: 'app',
      },
      io(),
    );
    assert.deepEqual(done.executed, ['target']);
    await withDb(tgt.url('f3'), async (c) => {
      const r = await c.query(`SELECT 1 FROM pg_roles WHERE rolname = 'mig'`);
      assert.equal(r.rowCount, 0);
      const o = await c.query<{ o: string }>(
        `SELECT pg_get_userbyid(relowner) AS o FROM pg_class WHERE oid = 'shop.orders'::regclass`,
      );
      assert.equal(o.rows[0].o, 'app');
    });
  });
});

describe('status', () => {
  test('reads a running task: state dir, events and target checkpoints', async () => {
    await withDb(tgt.url(), (c) => c.query('CREATE DATABASE f4'));
    const url = tgt.url('f4');
    await withDb(url, async (c) => {
      await ensureCheckpoints(c, 't4', 'x');
      await markUnitDone(c, { taskId: 't4', unitId: 'a:0', table: 'public.a', rows: 5, bytes: 50, snapshot: null });
      await markUnitDone(c, { taskId: 't4', unitId: 'b:0', table: 'public.b', rows: 7, bytes: 70, snapshot: null });
    });
    const state = new StateDir(root, 't4');
    state.writeJson('task.json', {
      name: 't4',
      source: 'postgresql://u@src:5432/db',
      target: url,
      startedAt: new Date().toISOString(),
      phase: 'data',
      status: 'running',
    });
    const bus = new EventBus();
    const log = openEventLog(state, bus, 't4');
    bus.emit({ type: 'task-start', task: 't4', source: 's', target: 't', resumed: false });
    bus.emit({ type: 'phase-start', phase: 'data' });
    bus.emit({ type: 'table-start', table: 'public.a', units: 1, estRows: 5, estBytes: 50 });
    bus.emit({ type: 'table-start', table: 'public.b', units: 3, estRows: 20, estBytes: 200 });
    bus.emit({ type: 'unit-done', table: 'public.a', unit: 'a:0', rows: 5, bytes: 50, durationMs: 3 });
    bus.emit({ type: 'table-done', table: 'public.a', rows: 5, bytes: 50, durationMs: 3, skippedUnits: 0 });
    bus.emit({ type: 'unit-done', table: 'public.b', unit: 'b:0', rows: 7, bytes: 70, durationMs: 3 });
    await log.close();
    runningTask('t4');
    const s = await readStatus(state);
    assert.equal(s.running, true);
    assert.equal(s.phase, 'data');
    assert.deepEqual(s.lastPhase, { phase: 'data', state: 'running' });
    assert.deepEqual(
      s.tables.map((t) => [t.table, t.unitsDone, t.units, t.rows, t.done]),
      [
        ['public.a', 1, 1, 5, true],
        ['public.b', 1, 3, 7, false],
      ],
    );
    assert.equal(s.checkpoint?.unitsDone, 2);
    assert.equal(s.checkpoint?.rows, 12);
    const text = renderStatus(s);
    assert.match(text, /RUNNING \(pid \d+\)/);
    assert.match(text, /public\.b: 1\/3 units/);
    assert.match(text, /2 units \/ 12 rows done/);
  });
});

describe('report', () => {
  test('built from events: phases, tables, objects, warnings, retries, verification, next steps; no passwords', () => {
    const bus = new EventBus();
    const col = collectEvents(bus);
    bus.emit({ type: 'task-start', task: 'r1', source: 's', target: 't', resumed: false });
    bus.emit({ type: 'phase-start', phase: 'schema' });
    bus.emit({ type: 'object', action: 'created', kind: 'table', name: 'public.a', section: 'pre' });
    bus.emit({ type: 'object', action: 'created', kind: 'table', name: 'public.b', section: 'pre' });
    bus.emit({ type: 'object', action: 'failed', kind: 'function', name: 'public.f()', section: 'pre' });
    bus.emit({ type: 'phase-end', phase: 'schema', durationMs: 12, ok: true });
    bus.emit({ type: 'phase-start', phase: 'data' });
    bus.emit({
      type: 'retry',
      what: 'copy public.a',
      attempt: 1,
      delayMs: 500,
      error: 'connection lost',
      sqlstate: '08006',
    });
    bus.emit({ type: 'log', level: 'warn', message: 'extension postgis is not installed' });
    bus.emit({ type: 'table-done', table: 'public.a', rows: 1000, bytes: 64000, durationMs: 2000, skippedUnits: 1 });
    bus.emit({ type: 'phase-end', phase: 'data', durationMs: 2100, ok: true });
    bus.emit({ type: 'task-end', ok: true, durationMs: 2500 });
    col.stop();
    bus.emit({ type: 'log', level: 'warn', message: 'after stop' });
    const verify = { ok: true, mode: 'count' as const, tables: [], sequences: [], objects: [], durationMs: 5 };
    const r = buildReport({
      taskId: 'r1',
      source: 'postgresql://mig:s3cretpw@db1.example:5432/shop',
      target: 'host=db2.example user=mig password=an0therpw dbname=shop',
      events: col.events,
      verify,
      notMigrated: [{ kind: 'event trigger', name: 'audit', reason: 'needs superuser' }],
    });
    assert.equal(r.status, 'done');
    assert.equal(r.source.uri, 'postgresql://mig@db1.example:5432/shop');
    assert.deepEqual(
      r.phases.map((p) => [p.phase, p.durationMs, p.ok]),
      [
        ['schema', 12, true],
        ['data', 2100, true],
      ],
    );
    assert.deepEqual(r.tables, [
      {
        table: 'public.a',
        rows: 1000,
        bytes: 64000,
        durationMs: 2000,
        rowsPerSec: 500,
        bytesPerSec: 32000,
        skippedUnits: 1,
      },
    ]);
    assert.deepEqual(r.objects, {
      table: { created: 2, skipped: 0, failed: 0 },
      function: { created: 0, skipped: 0, failed: 1 },
    });
    assert.deepEqual(r.warnings, ['extension postgis is not installed']);
    assert.equal(r.retries.count, 1);
    assert.ok(r.next.some((s) => /Stop writes to the source/.test(s)));
    assert.ok(r.next.some((s) => /pgferry finish r1/.test(s)));
    const dir = mkdtempSync(join(tmpdir(), 'pgferry-report-'));
    try {
      const paths = writeReport(new StateDir(dir, 'r1'), r);
      const md = readFileSync(paths.markdown, 'utf8');
      const json = readFileSync(paths.json, 'utf8');
      for (const text of [md, json, renderSummary(r)]) {
        assert.doesNotMatch(text, /s3cretpw|an0therpw/);
      }
      assert.match(md, /## Phases[\s\S]*\| data \|/);
      assert.match(md, /## What to do next/);
      assert.match(md, /event trigger audit: needs superuser/);
      assert.equal(JSON.parse(json).task, 'r1');
      const summary = renderSummary(r, paths);
      assert.match(summary, /DONE/);
      assert.match(summary, /1 table, 1,000 rows/);
      assert.match(summary, /verification: OK/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

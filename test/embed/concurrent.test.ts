// Two tasks at once in one process: two source/target pairs with their own limited accounts and
// passwords. Both complete and verify equal; each task's events, state dir and report carry only
// its own task and no password; each task's redactor knows only its own passwords and nothing is
// registered process-wide. A second run of a task already running in the process is refused
// without touching the first run's state.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { sampleDatabaseSql } from '../../src/dev/demo/sample.js';
import { validateTask, type TaskConfig } from '../../src/core/config.js';
import { EventBus, type TimedEvent } from '../../src/core/events.js';
import { migrate, type MigrateResult } from '../../src/engine/runner.js';
import { PgferryError } from '../../src/core/errors.js';
import { redact, Redactor } from '../../src/core/redact.js';
import { tableHashes, withClient } from '../helpers/compare.js';
import { passwordHba, sourceAccount, targetAccount } from './accounts.js';

let s15: Cluster;
let s17: Cluster;
const stateRoot = mkdtempSync(join(tmpdir(), 'pgferry-concurrent-'));
const PW = { aSrc: 'A-src-pw-7731', aTgt: 'A-tgt-pw-9925', bSrc: 'B-src-pw-1187', bTgt: 'B-tgt-pw-4410' };
const ALL_PW = Object.values(PW);
const ROLES_15 = ['a_src', 'b_src', 'b_tgt', 'c_src', 'c_tgt'];

before(async () => {
  [s15, s17] = await Promise.all([
    startCluster({ version: 15, name: 'pgferry-conc', hba: passwordHba(ROLES_15) }),
    startCluster({ version: 17, name: 'pgferry-conc', hba: passwordHba(['a_tgt']) }),
  ]);
});
after(async () => {
  await Promise.all([s15?.stop(), s17?.stop()]);
  rmSync(stateRoot, { recursive: true, force: true });
});

/** A filled source database with a table of its own (`only`), readable by `role`. */
async function sourceDb(db: string, scale: number, only: string, role: string, pw: string): Promise<string> {
  await withClient(s15.url(), (c) => c.query(`CREATE DATABASE ${db}`));
  await withClient(s15.url(db), (c) =>
    c.query(`${sampleDatabaseSql(scale)}
    CREATE TABLE shop.${only} (id int PRIMARY KEY, note text);
    INSERT INTO shop.${only} SELECT g, '${only} ' || g FROM generate_series(1, 50) g`),
  );
  return sourceAccount(s15, db, role, pw, ['shop', 'public']);
}

interface Ran {
  result: MigrateResult;
  seen: TimedEvent[];
}

async function run(task: TaskConfig, redactor: Redactor): Promise<Ran> {
  const events = new EventBus();
  const seen: TimedEvent[] = [];
  events.on((e) => seen.push(e));
  return { result: await migrate(task, { events, redactor }), seen };
}

const common = { stateDir: stateRoot, noOwner: true, noAcl: true, jobs: 2, verify: 'hash' };

/** The state dir of `task`: mentions it, never `other`, and no password. */
function checkState(task: string, other: string[]): void {
  const dir = join(stateRoot, task);
  const files = ['events.jsonl', 'task.json', 'report.json', 'report.md'];
  const text = files.map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
  assert.ok(text.includes(task));
  for (const x of [...other, ...ALL_PW]) assert.ok(!text.includes(x), `${task}'s state dir mentions ${x}`);
  const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
  assert.equal(report.task, task);
  assert.equal(report.status, 'done');
  assert.equal(report.verification?.ok, true);
}

/** The events of one task: its own task-start, tables of its own database, no trace of the other. */
function checkEvents(ran: Ran, task: string, own: string, other: string[]): void {
  const starts = ran.seen.filter((e) => e.type === 'task-start');
  assert.deepEqual(
    starts.map((e) => e.type === 'task-start' && e.task),
    [task],
  );
  const tables = new Set(ran.seen.flatMap((e) => (e.type === 'table-done' ? [e.table] : [])));
  assert.ok(
    [...tables].some((t) => t.includes(own)),
    `${task} copied its own table ${own}`,
  );
  const text = JSON.stringify(ran.seen);
  for (const x of [...other, ...ALL_PW]) assert.ok(!text.includes(x), `${task}'s events mention ${x}`);
  assert.equal(ran.seen.at(-1)?.type, 'task-end');
}

test('two tasks at once in one process: both equal, each with only its own events, state and passwords', async () => {
  const srcA = await sourceDb('conc_a', 0.15, 'only_a', 'a_src', PW.aSrc);
  const srcB = await sourceDb('conc_b', 0.1, 'only_b', 'b_src', PW.bSrc);
  const tgtA = await targetAccount(s17, 'conc_a_target', 'a_tgt', PW.aTgt);
  const tgtB = await targetAccount(s15, 'conc_b_target', 'b_tgt', PW.bTgt);
  const taskA = validateTask({ ...common, name: 'embed-a', source: srcA, target: tgtA });
  const taskB = validateTask({ ...common, name: 'embed-b', source: srcB, target: tgtB });
  const [ra, rb] = [new Redactor(), new Redactor()];
  // both settle before anything is checked: a failing run must not leave the other one writing
  const settled = await Promise.allSettled([run(taskA, ra), run(taskB, rb)]);
  const [a, b] = settled.map((x) => {
    if (x.status === 'rejected') throw x.reason;
    return x.value;
  });

  assert.equal(a.result.verify?.ok, true);
  assert.equal(b.result.verify?.ok, true);
  assert.deepEqual(await tableHashes(tgtA), await tableHashes(srcA));
  assert.deepEqual(await tableHashes(tgtB), await tableHashes(srcB));
  // the two runs overlapped: each was copying while the other had started
  const firstEnd = Math.min(...[a, b].map((x) => Date.parse(x.seen.at(-1)!.at)));
  assert.ok(
    [a, b].every((x) => Date.parse(x.seen[0].at) < firstEnd),
    'the tasks ran at the same time',
  );

  checkEvents(a, 'embed-a', 'only_a', ['embed-b', 'only_b', 'conc_b']);
  checkEvents(b, 'embed-b', 'only_b', ['embed-a', 'only_a', 'conc_a']);
  checkState('embed-a', ['embed-b', 'only_b', 'conc_b']);
  checkState('embed-b', ['embed-a', 'only_a', 'conc_a']);
  assert.equal(a.result.report?.task, 'embed-a');
  assert.equal(b.result.report?.task, 'embed-b');

  // each task's redactor learned its own passwords only; nothing was registered process-wide
  assert.deepEqual(
    ALL_PW.map((p) => ra.knows(p)),
    [true, true, false, false],
  );
  assert.deepEqual(
    ALL_PW.map((p) => rb.knows(p)),
    [false, false, true, true],
  );
  for (const p of ALL_PW) assert.equal(redact(`x ${p} y`), `x ${p} y`, 'a password reached the process-wide redactor');
});

test('a second run of a task already running in this process is refused and leaves the first alone', async () => {
  const src = await sourceDb('conc_c', 0.1, 'only_c', 'c_src', 'C-src-pw-5150');
  const tgt = await targetAccount(s15, 'conc_c_target', 'c_tgt', 'C-tgt-pw-6262');
  const task = validateTask({ ...common, name: 'embed-twice', source: src, target: tgt, verify: 'count' });
  const first = run(task, new Redactor());
  const second = await run(task, new Redactor()).then(
    () => undefined,
    (e: unknown) => e,
  );
  const done = await first;
  assert.ok(second instanceof PgferryError && second.kind === 'state', String(second));
  assert.match(second.message, /already running in this process/);
  assert.equal(done.result.verify?.ok, true);
  assert.deepEqual(await tableHashes(tgt), await tableHashes(src));
  const state = JSON.parse(readFileSync(join(stateRoot, 'embed-twice', 'task.json'), 'utf8'));
  assert.equal(state.status, 'done');
  const events = readFileSync(join(stateRoot, 'embed-twice', 'events.jsonl'), 'utf8')
    .trim()
    .split('\n');
  assert.equal(events.filter((l) => l.includes('"type":"task-start"')).length, 1, 'one run in the event log');
});

// The task's event log: every event names its task and has a sequence number that continues across
// runs; state changes are appended in batches, progress replaces progress.json (at most once per
// interval), whatever is buffered is written when the process exits, and `status` shows the progress.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openEventLog } from '../../src/state/eventlog.js';
import { readProgressFile, withProgress } from '../../src/state/progress-file.js';
import { readEventsFile } from '../../src/stages/report/index.js';
import { readStatus, renderStatus } from '../../src/stages/report/status.js';
import { EventBus, type FerryEvent, type TimedEvent } from '../../src/core/events.js';
import { StateDir } from '../../src/state/state-dir.js';

let root: string;
let oldUmask: number;
before(() => {
  oldUmask = process.umask(0o000);
  root = mkdtempSync(join(tmpdir(), 'pgferry-eventlog-'));
});
after(() => {
  process.umask(oldUmask);
  rmSync(root, { recursive: true, force: true });
});

const progress = (rows: number): FerryEvent => ({
  type: 'progress',
  rows,
  bytes: rows * 10,
  estRows: 1000,
  estBytes: 10000,
  rowsPerSec: 50,
  bytesPerSec: 500,
  etaSec: 9,
  active: [{ table: 'public.t', rows, estRows: 1000, bytes: rows * 10, estBytes: 10000 }],
});

async function run(state: StateDir, task: string, fn: (bus: EventBus) => void | Promise<void>, interval = 1000) {
  const bus = new EventBus();
  const { log, close } = openEventLog(state, bus, task, { progressIntervalMs: interval });
  await fn(bus);
  await close();
  return log;
}

test('events carry the task and a sequence number that continues in the next run', async () => {
  const state = new StateDir(root, 'seq');
  await run(state, 'seq', (bus) => {
    bus.emit({ type: 'phase-start', phase: 'data' });
    bus.emit(progress(1));
    bus.info('one');
  });
  await run(state, 'seq', (bus) => {
    bus.emit({ type: 'task-start', task: 'seq', source: 's', target: 't', resumed: true });
    bus.info('two');
  });
  const ev = readEventsFile(state);
  assert.deepEqual(
    ev.map((e) => [e.type, e.seq, e.task]),
    [
      ['phase-start', 1, 'seq'],
      ['log', 3, 'seq'],
      ['task-start', 4, 'seq'],
      ['log', 5, 'seq'],
    ],
  );
  assert.equal(readProgressFile(state)?.seq, 2);
});

test('progress replaces progress.json, never events.jsonl; writes are batched', async () => {
  const state = new StateDir(root, 'batch');
  const log = await run(state, 'batch', async (bus) => {
    for (let i = 1; i <= 400; i++) {
      bus.emit(progress(i));
      if (i % 4 === 0) {
        bus.emit({ type: 'unit-done', table: 'public.t', unit: `public.t#${i}`, rows: 4, bytes: 40, durationMs: 1 });
      }
    }
    await new Promise((r) => setTimeout(r, 250));
    for (let i = 401; i <= 500; i++) bus.emit(progress(i));
  });
  const ev = readEventsFile(state);
  assert.equal(ev.length, 100);
  assert.ok(ev.every((e) => e.type === 'unit-done'));
  assert.ok(log.writes.appends <= 3, `appends: ${log.writes.appends}`);
  assert.ok(log.writes.progress <= 2, `progress writes: ${log.writes.progress}`);
  const p = readProgressFile(state);
  assert.equal(p?.rows, 500, 'the last progress is written on close');
  assert.equal(statSync(state.path('progress.json')).mode & 0o777, 0o600);
  assert.equal(existsSync(state.path('.progress.json.tmp')), false);
});

test('progress.json is replaced at most once per interval while the task runs', async () => {
  const state = new StateDir(root, 'rate');
  const seen = new Set<number>();
  const t0 = Date.now();
  const log = await run(
    state,
    'rate',
    async (bus) => {
      for (let i = 1; i <= 60; i++) {
        bus.emit(progress(i));
        await new Promise((r) => setTimeout(r, 10));
        const p = readProgressFile(state);
        if (p) seen.add(p.rows);
      }
    },
    200,
  );
  // at most one write per 200 ms interval of the run (a loaded machine stretches the run), plus the final one
  const most = Math.ceil((Date.now() - t0) / 200) + 1;
  const n = log.writes.progress;
  assert.ok(n >= 2 && n <= most && n < 60, `progress writes: ${n} in ${Date.now() - t0} ms (at most ${most})`);
  assert.ok(seen.size >= 1 && seen.size <= log.writes.progress, `snapshots seen: ${seen.size}`);
});

test('a process that exits without closing the log still writes what it buffered', () => {
  const child = join(dirname(fileURLToPath(import.meta.url)), 'exit-child.ts');
  const r = spawnSync(process.execPath, ['--import', 'tsx', child, root, 'exit', '50'], { encoding: 'utf8' });
  assert.equal(r.status, 130, r.stderr);
  const state = new StateDir(root, 'exit');
  const ev = readEventsFile(state);
  assert.equal(ev.length, 50);
  assert.deepEqual(
    ev.map((e) => e.seq),
    ev.map((_, i) => i + 1),
  );
  assert.equal(readProgressFile(state)?.rows, 7);
});

test('status shows the progress of progress.json', async () => {
  const state = new StateDir(root, 'status');
  await run(state, 'status', (bus) => {
    bus.emit({ type: 'phase-start', phase: 'data' });
    bus.emit(progress(250));
  });
  assert.equal(readFileSync(state.path('events.jsonl'), 'utf8').includes('"progress"'), false);
  const st = await readStatus(state, { checkpoints: false });
  assert.equal(st.progress?.rows, 250);
  // rows in flight are never shown as copied (only committed units are); a running task shows the rate
  assert.doesNotMatch(renderStatus(st), /250 rows/);
  assert.match(renderStatus({ ...st, running: true }), /rate: 50 rows\/s, 500 B\/s, ETA 9 s/);
});

test('a progress snapshot goes in sequence among the events; unnumbered (older) events count as before it', () => {
  const at = new Date().toISOString();
  const e = (seq: number | undefined) =>
    ({ type: 'log', level: 'info', message: String(seq), at, task: 't', seq }) as TimedEvent;
  const p = { ...progress(1), at, task: 't', seq: 3 } as Extract<TimedEvent, { type: 'progress' }>;
  assert.deepEqual(
    withProgress([e(1), e(2), e(4)], p).map((x) => x.seq),
    [1, 2, 3, 4],
  );
  assert.deepEqual(
    withProgress([e(undefined), e(undefined)], p).map((x) => x.seq),
    [undefined, undefined, 3],
  );
  assert.deepEqual(
    withProgress([e(1)], undefined).map((x) => x.seq),
    [1],
  );
});

test('a password in an event is scrubbed and the line stays readable', async () => {
  const state = new StateDir(root, 'secret');
  await run(state, 'secret', (bus) => {
    bus.warn('cannot connect: host=db password=hunter2pw user=x');
    bus.warn('cannot connect to postgresql://u:hunter2pw@db/app');
  });
  const text = readFileSync(state.path('events.jsonl'), 'utf8');
  assert.equal(text.includes('hunter2pw'), false, text);
  assert.deepEqual(
    readEventsFile(state).map((e) => e.type === 'log' && e.message),
    ['cannot connect: host=db password=******** user=x', 'cannot connect to postgresql://u:********@db/app'],
  );
});

// A real migrate's event log: every event names the task and is numbered, the numbers continue when
// the task is run again, events.jsonl holds no progress lines, and progress.json (read by `status`)
// follows the copy while it runs. Source account: CONNECT/USAGE/SELECT only; target account: owner
// of the target database, no superuser.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { readEventsFile } from '../../src/stages/report/index.js';
import { readStatus } from '../../src/stages/report/status.js';
import { readProgressFile } from '../../src/state/progress-file.js';
import { validateTask } from '../../src/core/config.js';
import { EventBus, type TimedEvent } from '../../src/core/events.js';
import { migrate } from '../../src/engine/runner.js';
import { StateDir } from '../../src/state/state-dir.js';
import { withClient } from '../helpers/compare.js';

let srv: Cluster;
const stateDir = mkdtempSync(join(tmpdir(), 'pgferry-events-'));
before(async () => {
  srv = await startCluster({ version: 15, name: 'pgferry-events' });
  await withClient(srv.url(), async (c) => {
    await c.query(`CREATE ROLE reader LOGIN; CREATE ROLE mover LOGIN`);
    await c.query(`CREATE DATABASE src`);
    await c.query(`CREATE DATABASE dst OWNER mover`);
  });
  await withClient(srv.url('src'), (c) =>
    c.query(`
    CREATE TABLE big (id int PRIMARY KEY, v text);
    INSERT INTO big SELECT g, repeat('x', 40) FROM generate_series(1, 16000) g;
    CREATE TABLE small (id int PRIMARY KEY); INSERT INTO small SELECT generate_series(1, 10);
    ANALYZE; GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader;`),
  );
});
after(async () => {
  await srv?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

const task = () =>
  validateTask({
    name: 'ev',
    source: srv.url('src', 'reader'),
    target: srv.url('dst', 'mover'),
    stateDir,
    noOwner: true,
    verify: 'count',
    copy: { maxRowsPerSec: 4000 },
  });

async function run(): Promise<TimedEvent[]> {
  const bus = new EventBus();
  const seen: TimedEvent[] = [];
  bus.on((e) => seen.push(e));
  await migrate(task(), { events: bus });
  return seen;
}

test('events are numbered per task across runs; progress goes to progress.json, which status reads', async () => {
  const state = new StateDir(stateDir, 'ev');
  const during: number[] = [];
  const poll = setInterval(() => {
    const p = readProgressFile(state);
    if (p) during.push(p.rows);
  }, 100);
  const first = await run().finally(() => clearInterval(poll));
  assert.ok(first.filter((e) => e.type === 'progress').length >= 4, 'the copy emitted progress');
  assert.ok(
    during.some((r) => r > 0 && r < 16010),
    `progress.json followed the copy: ${during.join(',')}`,
  );
  const second = await run();
  const all = [...first, ...second];
  assert.ok(all.every((e) => e.task === 'ev'));
  assert.deepEqual(
    all.map((e) => e.seq),
    all.map((_, i) => i + 1),
    'numbered 1, 2, 3… across both runs',
  );
  const file = readEventsFile(state);
  assert.equal(readFileSync(state.path('events.jsonl'), 'utf8').includes('"type":"progress"'), false);
  assert.deepEqual(
    file.map((e) => e.seq),
    all.filter((e) => e.type !== 'progress').map((e) => e.seq),
  );
  const st = await readStatus(state, { checkpoints: false });
  const lastProgress = first.filter((e) => e.type === 'progress').at(-1) as Extract<TimedEvent, { type: 'progress' }>;
  assert.equal(st.progress?.rows, lastProgress.rows);
  assert.equal(st.status, 'done');
});

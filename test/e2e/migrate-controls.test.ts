// `pgferry migrate` follows control.json: paused before it starts, no unit is copied; resumed
// with fewer jobs, it completes and the target equals the source.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { sampleDatabaseSql } from '../../src/dev/demo/sample.js';
import type { TimedEvent } from '../../src/core/events.js';
import { StateDir } from '../../src/state/state-dir.js';
import { tableHashes, withClient } from '../helpers/compare.js';

let pgc: Cluster;
const stateRoot = mkdtempSync(join(tmpdir(), 'pgferry-controls-state-'));

before(async () => {
  pgc = await startCluster({ version: 15, name: 'pgferry-mctl' });
  await withClient(pgc.url(), (c) => c.query('CREATE DATABASE shop'));
  await withClient(pgc.url(), (c) => c.query('CREATE DATABASE shop_copy'));
  await withClient(pgc.url('shop'), (c) => c.query(sampleDatabaseSql(0.05)));
});

after(async () => {
  await pgc?.stop();
  rmSync(stateRoot, { recursive: true, force: true });
});

test('control.json pauses a migrate before its first unit; `throttle --resume --jobs 1` resumes it, and it completes equal', async () => {
  const state = new StateDir(stateRoot, 'ctl');
  state.ensure();
  state.writeJson('control.json', { paused: true });
  const seen: TimedEvent[] = [];
  let resumedAt = 0;
  let throttleOut = '';
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'test/helpers/cli.ts',
      'migrate',
      '--json',
      '--name',
      'ctl',
      '--state-dir',
      stateRoot,
      '-s',
      pgc.url('shop'),
      '-t',
      pgc.url('shop_copy'),
      '--jobs',
      '2',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      const e = JSON.parse(line) as TimedEvent;
      seen.push(e);
      if (e.type === 'log' && /data copy paused/.test(e.message)) {
        setTimeout(() => {
          resumedAt = seen.length;
          // the command a DBA runs: pgferry throttle <task> --resume --jobs 1
          const r = spawnSync(
            process.execPath,
            [
              '--import',
              'tsx',
              'test/helpers/cli.ts',
              'throttle',
              'ctl',
              '--resume',
              '--jobs',
              '1',
              '--state-dir',
              stateRoot,
            ],
            { encoding: 'utf8' },
          );
          throttleOut = r.stdout + r.stderr;
        }, 2000);
      }
    } catch {
      /* not an event */
    }
  });
  const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
  assert.equal(code, 0, stderr);
  assert.ok(resumedAt > 0, 'the run said it was paused');
  assert.match(throttleOut, /ctl: rows\/s unlimited, bytes\/s unlimited, jobs 1 \(applied to pid \d+/);
  assert.equal(state.readJson<{ paused?: boolean }>('control.json')?.paused, false);
  const before = seen.slice(0, resumedAt);
  assert.deepEqual(before.filter((e) => e.type === 'table-start' || e.type === 'unit-done').length, 0);
  assert.ok(seen.slice(resumedAt).some((e) => e.type === 'throttle' && e.jobs === 1));
  assert.ok(seen.slice(resumedAt).some((e) => e.type === 'unit-done'));
  assert.deepEqual(await tableHashes(pgc.url('shop_copy')), await tableHashes(pgc.url('shop')));
});

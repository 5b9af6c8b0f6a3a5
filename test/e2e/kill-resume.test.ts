// `pgferry migrate` killed with SIGKILL between tables and during an index build, then rerun:
// the target ends equal to the source (rows and schema), nothing duplicated, nothing missing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { sampleDatabaseSql } from '../../src/dev/demo/sample.js';
import type { TimedEvent } from '../../src/core/events.js';
import { schemaFingerprint, tableHashes, withClient } from '../helpers/compare.js';

let src: Cluster;
let tgt: Cluster;
const stateDir = mkdtempSync(join(tmpdir(), 'pgferry-kill-state-'));

before(async () => {
  [src, tgt] = await Promise.all([startCluster({ version: 15 }), startCluster({ version: 17 })]);
  await withClient(src.url(), (c) => c.query('CREATE DATABASE shop'));
  await withClient(src.url('shop'), async (c) => {
    await c.query(sampleDatabaseSql(0.2));
    // an index whose build takes seconds, so that a kill lands inside it
    await c.query(`
      CREATE FUNCTION shop.slow_id(integer) RETURNS integer LANGUAGE plpgsql IMMUTABLE AS
        $$ BEGIN PERFORM pg_sleep(0.002); RETURN $1; END $$;
      CREATE TABLE shop.slow (id integer PRIMARY KEY, v text);
      INSERT INTO shop.slow SELECT g, md5(g::text) FROM generate_series(1, 1500) g;
      CREATE INDEX slow_expr_idx ON shop.slow (shop.slow_id(id));`);
  });
});

after(async () => {
  await Promise.all([src?.stop(), tgt?.stop()]);
  rmSync(stateDir, { recursive: true, force: true });
});

/** Run `pgferry migrate --json`; `onEvent` may call kill() to SIGKILL the process. */
function runMigrate(
  db: string,
  onEvent: (e: TimedEvent, kill: () => void) => void,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'test/helpers/cli.ts',
        'migrate',
        '--json',
        '--name',
        db,
        '--state-dir',
        stateDir,
        '-s',
        src.url('shop'),
        '-t',
        tgt.url(db),
        '--jobs',
        '2',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const kill = () => child.kill('SIGKILL');
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        onEvent(JSON.parse(line) as TimedEvent, kill);
      } catch {
        /* not an event */
      }
    });
    child.stderr!.resume();
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
}

async function assertEqual(db: string): Promise<void> {
  assert.deepEqual(await tableHashes(tgt.url(db)), await tableHashes(src.url('shop')));
  assert.deepEqual(await schemaFingerprint(tgt.url(db)), await schemaFingerprint(src.url('shop')));
}

for (const when of ['between tables', 'during an index build'] as const) {
  test(`SIGKILL ${when}, rerun: target equals source`, async () => {
    const db = when === 'between tables' ? 'kill_between' : 'kill_index';
    await withClient(tgt.url(), (c) => c.query(`CREATE DATABASE ${db}`));
    let killedAt = '';
    const first = await runMigrate(db, (e, kill) => {
      if (killedAt) return;
      if (when === 'between tables' && e.type === 'table-done') {
        killedAt = e.table;
        kill();
      }
      if (when === 'during an index build' && e.type === 'index-start' && /slow_expr_idx/.test(e.name)) {
        killedAt = e.name;
        setTimeout(kill, 500);
      }
    });
    assert.equal(first.signal, 'SIGKILL', `killed ${when}`);
    if (when === 'during an index build') {
      // the build was cut off: the index is not there yet, and its checkpoint row neither
      const idx = await withClient(tgt.url(db), (c) =>
        c.query(`SELECT 1 FROM pg_indexes WHERE indexname = 'slow_expr_idx'`),
      );
      assert.equal(idx.rowCount, 0);
    }
    const second = await runMigrate(db, () => {});
    assert.equal(second.code, 0);
    await assertEqual(db);
  });
}

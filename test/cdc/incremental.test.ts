// Incremental migration: the copy reads the slot's own snapshot and the stream applies every change
// after it exactly once — inserts, updates (a key change too), deletes, truncate, an unchanged TOAST
// value, a table without a key (REPLICA IDENTITY FULL), and a row committed between slot and copy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBus, type TimedEvent } from '../../src/core/events.js';
import { migrate } from '../../src/engine/runner.js';
import { tableHashes, withClient } from '../helpers/compare.js';
import { cdcFixture, runChild, sourceWriter, stopAt } from './helpers.js';
import { finishTask } from '../../src/cli/commands/finish.js';
import { readStatus, renderStatus } from '../../src/stages/report/status.js';
import { StateDir } from '../../src/state/state-dir.js';

const fx = cdcFixture({ prefix: 'cdc-state' });
const { stateDir } = fx;

const SCHEMA = `
      CREATE TABLE item (id int PRIMARY KEY, label text, doc text, price numeric(10,2), tags text[], at timestamptz);
      ALTER TABLE item ALTER doc SET STORAGE EXTERNAL;
      INSERT INTO item SELECT g, 'l' || g, CASE WHEN g = 1 THEN repeat(md5('x'), 400) END, g * 1.5, ARRAY['a', 'b'], now()
        FROM generate_series(1, 200) g;
      CREATE TABLE bag (v text, n int);
      ALTER TABLE bag REPLICA IDENTITY FULL;
      INSERT INTO bag VALUES ('dup', 1), ('dup', 1), ('one', 2);
      CREATE TABLE scratch (id serial PRIMARY KEY, x jsonb);
      INSERT INTO scratch (x) SELECT jsonb_build_object('g', g) FROM generate_series(1, 5) g;`;

async function changesDuringApply(url: string): Promise<void> {
  await withClient(url, (c) =>
    c.query(`
      UPDATE item SET label = 'toast kept' WHERE id = 1;
      UPDATE item SET id = 1000 WHERE id = 2;
      DELETE FROM item WHERE id BETWEEN 10 AND 19;
      INSERT INTO item SELECT g, 'new', NULL, 0, '{}', now() FROM generate_series(300, 320) g;
      BEGIN; UPDATE item SET price = price + 1 WHERE id < 100; INSERT INTO item VALUES (999, 'in txn'); COMMIT;
      DELETE FROM bag WHERE v = 'dup';
      INSERT INTO bag VALUES ('dup', 1), (NULL, 3);
      UPDATE bag SET n = 5 WHERE v = 'one';
      TRUNCATE scratch;
      INSERT INTO scratch (x) VALUES ('{"after": "truncate"}');`),
  );
}

test('incremental: copy in the slot snapshot, then every change applied exactly once', async () => {
  const { source, target } = await fx.databases('inc', SCHEMA);
  const task = fx.task('inc', source, target, { verify: 'hash' });
  const events = new EventBus();
  const seen: TimedEvent[] = [];
  let between: Promise<unknown> | undefined;
  let during: Promise<unknown> | undefined;
  events.on((e) => {
    seen.push(e);
    // The slot exists and the copy has not read a row yet: this row must come through the stream only.
    if (e.type === 'snapshot' && !between)
      between = withClient(source, (c) => c.query(`INSERT INTO item VALUES (-1, 'between')`));
    if (e.type === 'phase-start' && e.phase === 'cdc') {
      during = (async () => {
        await between;
        await changesDuringApply(source);
        await stopAt(source, target, 'inc');
      })();
    }
  });
  const result = await migrate(task, { events });
  await during;
  assert.ok(result.verify?.ok, JSON.stringify(result.verify));
  assert.deepEqual(await tableHashes(target), await tableHashes(source));
  const rows = await withClient(target, async (c) => ({
    between: (await c.query('SELECT count(*)::int AS n FROM item WHERE id = -1')).rows[0].n,
    toast: (await c.query(`SELECT label, length(doc) AS len FROM item WHERE id = 1`)).rows[0],
    bag: (await c.query(`SELECT count(*)::int AS n FROM bag WHERE v = 'dup'`)).rows[0].n,
  }));
  assert.deepEqual(rows, { between: 1, toast: { label: 'toast kept', len: 12800 }, bag: 1 });
  assert.ok(
    seen.some((e) => e.type === 'cdc-lag'),
    'lag events are emitted',
  );
});

/** Source transactions, one after the other, until stopped: inserts, updates, deletes on a keyed and a keyless table. */
const writer = (url: string) =>
  sourceWriter(
    url,
    (n) => `BEGIN;
        INSERT INTO acct (bal) VALUES (${n});
        UPDATE acct SET bal = bal + 1 WHERE id = ${1 + (n % 50)};
        INSERT INTO log VALUES (${n % 7}, repeat('x', ${n % 5}));
        ${n % 10 === 0 ? `DELETE FROM log WHERE v = ${n % 7};` : ''}
        ${n % 13 === 0 ? `DELETE FROM acct WHERE id = ${n - 5};` : ''}
        COMMIT`,
    10,
  );

async function killAndResume(args: string[], w: { stop: () => Promise<number> }, source: string, target: string) {
  const kills: string[] = [];
  // 1: during the copy (the slot and its snapshot exist); 2, 3: at a random moment of the apply
  for (const when of ['copy', 'apply', 'apply']) {
    const r = await runChild([...args, '--verify', 'none'], (e, kill) => {
      if (when === 'copy' && e.type === 'snapshot') kill();
      if (when === 'apply' && e.type === 'phase-start' && e.phase === 'cdc')
        setTimeout(kill, 300 + Math.random() * 1500);
    });
    assert.equal(r.signal, 'SIGKILL', `run killed during the ${when}: ${r.stderr}`);
    kills.push(when);
  }
  // Not running now: status names the slot left on the source and the command that drops it.
  const status = renderStatus(await readStatus(new StateDir(stateDir, 'kill'), { target }));
  assert.match(status, /incremental: stream, slot pgferry_kill_\w+/);
  assert.match(status, /stay on the source while no run streams from them .*pgferry finish kill -s SOURCE -t TARGET/);
  let finished: Promise<unknown> | undefined;
  const logged: string[] = [];
  const io = { log: (t: string) => logged.push(t), confirm: async () => false };
  const verdicts: unknown[] = [];
  const last = runChild([...args, '--verify', 'hash'], (e) => {
    if (e.type === 'verify-result' && !e.ok) verdicts.push(e);
    if (e.type === 'cdc-lag' && !finished) {
      // The cutover: writes stop on the source, then finish stops the apply, waits, drops slot and publication.
      finished = (async () => {
        await w.stop();
        await finishTask({ task: 'kill', stateDir, target, source }, io);
      })();
    }
  });
  const r = await last;
  assert.equal(r.code, 0, `${r.stderr} ${JSON.stringify(verdicts)}`);
  await finished;
  // finish cut the streaming task over through the one cutover path (its steps, then the run's end)
  assert.match(logged.join('\n'), /task kill: cutover: verify \(hash\)…/);
  assert.match(logged.join('\n'), /task kill: dropped slot pgferry_kill_\w+, publication pgferry_kill_\w+ dropped/);
  const left = await withClient(source, async (c) => ({
    slots: (await c.query('SELECT slot_name FROM pg_replication_slots WHERE database = current_database()')).rowCount,
    publications: (await c.query('SELECT pubname FROM pg_publication')).rowCount,
  }));
  assert.deepEqual(left, { slots: 0, publications: 0 });
  assert.deepEqual(kills, ['copy', 'apply', 'apply']);
}

test('incremental: kill -9 of the run during the copy and at random moments of the apply; each rerun resumes, target equals source', async () => {
  const { source, target } = await fx.databases(
    'kill',
    `CREATE TABLE acct (id serial PRIMARY KEY, bal int);
     INSERT INTO acct (bal) SELECT g FROM generate_series(1, 2000) g;
     CREATE TABLE log (v int, pad text);
     ALTER TABLE log REPLICA IDENTITY FULL;
     INSERT INTO log SELECT g % 7, 'p' FROM generate_series(1, 2000) g;`,
  );
  const args = ['--name', 'kill', '--state-dir', stateDir, '-s', source, '-t', target, '--no-owner', '--no-acl'];
  const w = writer(source);
  try {
    await killAndResume(args, w, source, target);
  } finally {
    await w.stop();
  }
  assert.deepEqual(await tableHashes(target), await tableHashes(source));
  const seq = await withClient(
    target,
    async (c) => (await c.query(`SELECT last_value::int AS v FROM acct_id_seq`)).rows[0].v,
  );
  const srcSeq = await withClient(
    source,
    async (c) => (await c.query(`SELECT last_value::int AS v FROM acct_id_seq`)).rows[0].v,
  );
  assert.equal(seq, srcSeq, 'sequences set from the source when the apply stops');
});

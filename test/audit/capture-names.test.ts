// Change capture with least-privilege accounts (source: LOGIN REPLICATION, reads and publishes as a
// member of the tables' owner; target: owns its database) and names that need quoting everywhere: a
// schema and tables with dots, quotes, spaces and unicode, a 63-byte column, a key of two columns (one
// of them text with odd characters) that UPDATEs change, an unchanged TOAST value, NULLs, and a table
// without a key (REPLICA IDENTITY FULL) with duplicate rows and NULLs that DELETEs and UPDATEs hit.
// The source is written to all along, from before the copy to the end of the apply; the target must
// then equal the source after `pgferry finish` (its cutover verifies by hash; row hashes of every table
// compared here too), and nothing be left on the source.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { finishTask } from '../../src/cli/commands/finish.js';
import { quoteIdent } from '../../src/core/ident.js';
import { tableHashes, withClient } from '../helpers/compare.js';
import {
  captureAccounts,
  cdcFixture,
  leftOnSource,
  runChild,
  sourceWriter,
  SRC_PASSWORD,
  TGT_PASSWORD,
} from '../cdc/helpers.js';

const fx = cdcFixture({ prefix: 'audit-capture', versions: [15, 15], roles: false });

const S = quoteIdent('Sch.ema ü');
const T = `${S}.${quoteIdent('T "q". 1')}`;
const BAG = `${S}.${quoteIdent('bag.of "rows"')}`;
const K1 = quoteIdent('K.1');
const K2 = quoteIdent('kéy "2"');
const LONG = quoteIdent(`${'c'.repeat(59)}Long`); // 63 bytes

const SCHEMA = `
  CREATE SCHEMA ${S};
  CREATE TABLE ${T} (${K1} int, ${K2} text, ${LONG} text, doc text, n int, PRIMARY KEY (${K1}, ${K2}));
  ALTER TABLE ${T} ALTER doc SET STORAGE EXTERNAL;
  INSERT INTO ${T} SELECT g % 20, 'k ' || g || ' "é.',  CASE WHEN g % 3 = 0 THEN NULL ELSE 'v' || g END,
         CASE WHEN g % 50 = 1 THEN repeat(md5(g::text), 300) END, g FROM generate_series(1, 400) g;
  CREATE TABLE ${BAG} ("v.1" text, "ñ" int);
  ALTER TABLE ${BAG} REPLICA IDENTITY FULL;
  INSERT INTO ${BAG} SELECT CASE WHEN g % 4 = 0 THEN NULL ELSE 'v' || (g % 5) END, g % 3 FROM generate_series(1, 60) g;`;

/** Source transactions one after another until stopped: key changes, TOAST kept, NULLs, keyless deletes. */
const writer = (url: string) =>
  sourceWriter(
    url,
    (n) => `BEGIN;
        INSERT INTO ${T} VALUES (${1000 + n}, 'new ' || ${n} || ' ''q'' "d".', ${n % 2 ? 'NULL' : `'x${n}'`}, NULL, ${n});
        UPDATE ${T} SET ${K1} = ${K1} + 100000 WHERE (${K1}, ${K2}) IN
          (SELECT ${K1}, ${K2} FROM ${T} WHERE ${K1} < 100000 ORDER BY n LIMIT 1);
        UPDATE ${T} SET n = n + 1, ${LONG} = NULL WHERE doc IS NOT NULL AND n % 7 = ${n % 7};
        UPDATE ${T} SET ${K2} = ${K2} || '·' WHERE n = ${400 - n};
        DELETE FROM ${T} WHERE n = ${n * 3};
        INSERT INTO ${BAG} VALUES (${n % 3 ? 'NULL' : `'v${n % 5}'`}, ${n % 3}), ('v${n % 5}', NULL);
        DELETE FROM ${BAG} WHERE "v.1" IS NULL AND "ñ" = ${n % 3} AND ctid = (SELECT min(ctid) FROM ${BAG} WHERE "v.1" IS NULL AND "ñ" = ${n % 3});
        UPDATE ${BAG} SET "ñ" = 7 WHERE "v.1" = 'v${n % 5}' AND "ñ" IS NULL;
        ${n % 5 === 0 ? `DELETE FROM ${BAG} WHERE "v.1" = 'v${n % 5}';` : ''}
        COMMIT`,
    5,
  );

test('change capture with odd names, composite keys changed, TOAST kept, keyless rows with NULLs, under writes, then pgferry finish: target equals source', async () => {
  const [src, tgt] = fx.clusters;
  const { source, target } = await captureAccounts(src, tgt, 'oddnames', SCHEMA);
  let w: { stop: () => Promise<number> } | undefined;
  let finished: Promise<number> | undefined;
  const logged: string[] = [];
  const io = { log: (t: string) => logged.push(t), confirm: async () => false };
  const args = ['-s', source, '-t', target, '--name', 'oddnames', '--state-dir', fx.stateDir];
  const run = await runChild([...args, '--no-owner', '--no-acl', '--verify', 'hash'], (e) => {
    // writes from the moment the slot exists: during the copy, then during the apply
    if (e.type === 'snapshot' && !w) w = writer(source);
    if (e.type === 'cdc-lag' && !finished) {
      // the cutover: writes stop on the source, then finish stops the apply, verifies, drops slot and publication
      finished = (async () => {
        await sleep(1000);
        const n = await w!.stop();
        await finishTask({ task: 'oddnames', stateDir: fx.stateDir, target, source }, io);
        return n;
      })();
    }
  });
  const transactions = await finished;
  assert.equal(run.code, 0, run.stderr);
  assert.ok((transactions ?? 0) > 5, `source transactions during the run: ${transactions}`);
  assert.match(logged.join('\n'), /task oddnames: cutover: verify \(hash\)…/);
  assert.deepEqual(await leftOnSource(source), { slots: [], publications: [] });
  const [a, b] = [await tableHashes(target), await tableHashes(source)];
  assert.deepEqual(a, b);
  assert.deepEqual(Object.keys(a).sort(), ['Sch.ema ü.T "q". 1', 'Sch.ema ü.bag.of "rows"']);
  // the TOAST values the UPDATEs left alone are whole on the target
  const toast = (url: string) =>
    withClient(url, (c) => c.query(`SELECT ${K1} AS k, length(doc) AS len FROM ${T} WHERE doc IS NOT NULL ORDER BY 1`));
  assert.deepEqual((await toast(target)).rows, (await toast(source)).rows);
  assert.ok((await toast(target)).rows.every((r) => r.len === 9600));
  // no password in what the run and the cutover said
  const said = [run.stdout.join('\n'), run.stderr, logged.join('\n')].join('\n');
  assert.ok(!said.includes(SRC_PASSWORD) && !said.includes(TGT_PASSWORD), 'a password leaked');
});

// Large objects move with a whole-database migration: oid, content (across 1 MB pieces), owner,
// grants and comment; a rerun does not copy them twice; a schema filter keeps them out, with a warning.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { validateTask } from '../../src/core/config.js';
import { EventBus } from '../../src/core/events.js';
import { migrate } from '../../src/engine/runner.js';
import { runPrecheck } from '../../src/stages/precheck/index.js';
import { verify } from '../../src/stages/verify/index.js';
import { withClient } from '../helpers/compare.js';

let src: Cluster;
let tgt: Cluster;
const stateDir = mkdtempSync(join(tmpdir(), 'pgferry-lo-state-'));

const LO_STATE = `
  SELECT m.oid::text AS oid, pg_get_userbyid(m.lomowner) AS owner, m.lomacl::text AS acl,
         obj_description(m.oid, 'pg_largeobject') AS comment, md5(lo_get(m.oid)) AS md5, length(lo_get(m.oid)) AS len
  FROM pg_largeobject_metadata m ORDER BY m.oid`;

before(async () => {
  [src, tgt] = await Promise.all([startCluster({ version: 15 }), startCluster({ version: 17 })]);
  for (const c of [src, tgt]) await withClient(c.url(), (x) => x.query(`CREATE ROLE lo_owner; CREATE ROLE lo_reader`));
  await withClient(src.url(), async (c) => {
    await c.query('CREATE DATABASE lo_src');
    await c.query('CREATE DATABASE lo_other');
  });
  await withClient(tgt.url(), async (c) => {
    await c.query('CREATE DATABASE lo_tgt');
    await c.query('CREATE DATABASE lo_other');
  });
  await withClient(src.url('lo_src'), (c) =>
    c.query(`
      CREATE TABLE docs (id int PRIMARY KEY, body oid);
      SELECT lo_create(424242);                                   -- empty
      SELECT lo_from_bytea(424243, convert_to('hello, large world', 'UTF8'));
      COMMENT ON LARGE OBJECT 424243 IS 'a greeting';
      GRANT SELECT ON LARGE OBJECT 424243 TO lo_reader;
      SELECT lo_from_bytea(424244, decode(string_agg(md5(g::text), ''), 'hex')) FROM generate_series(1, 200000) g;  -- 3.2 MB
      ALTER LARGE OBJECT 424244 OWNER TO lo_owner;
      INSERT INTO docs VALUES (1, 424243), (2, 424244);`),
  );
});

after(async () => {
  await Promise.all([src?.stop(), tgt?.stop()]);
  rmSync(stateDir, { recursive: true, force: true });
});

test('large objects are copied with oid, content, owner, grants and comment; a rerun copies none twice', async () => {
  const task = validateTask({ name: 'lo', source: src.url('lo_src'), target: tgt.url('lo_tgt'), stateDir, jobs: 2 });
  const first = await migrate(task, { events: new EventBus() });
  assert.equal(first.copy?.largeObjects, 3);
  const want = await withClient(src.url('lo_src'), (c) => c.query(LO_STATE));
  const got = await withClient(tgt.url('lo_tgt'), (c) => c.query(LO_STATE));
  assert.deepEqual(got.rows, want.rows);
  assert.equal(want.rows[2].len, 3_200_000);

  // verification covers large objects: equal now, and a changed byte is found in hash mode
  const lo = (r: Awaited<ReturnType<typeof verify>>) => r.objects.find((x) => x.kind === 'large objects');
  assert.equal(lo(await verify(task, { mode: 'hash' }))?.ok, true);
  await withClient(tgt.url('lo_tgt'), (c) => c.query(`SELECT lo_put(424243, 0, '\\x48')`));
  const changed = lo(await verify(task, { mode: 'hash' }));
  assert.equal(changed?.ok, false);
  assert.deepEqual(changed?.missing, ['content of one or more large objects differs']);
  assert.equal(lo(await verify(task, { mode: 'count' }))?.ok, true);
  await withClient(tgt.url('lo_tgt'), (c) => c.query(`SELECT lo_put(424243, 0, '\\x68')`));

  const again = await migrate(task, { events: new EventBus() });
  assert.equal(again.copy?.largeObjects, 3);
  assert.deepEqual((await withClient(tgt.url('lo_tgt'), (c) => c.query(LO_STATE))).rows, want.rows);
});

test('with a schema filter large objects stay behind, and precheck says so', async () => {
  await withClient(src.url('lo_other'), (c) =>
    c.query(`CREATE TABLE t (id int PRIMARY KEY); SELECT lo_from_bytea(0, '\\x01')`),
  );
  const task = validateTask({
    name: 'lo-filtered',
    source: src.url('lo_other'),
    target: tgt.url('lo_other'),
    stateDir,
    includeSchemas: ['public'],
  });
  const pre = await runPrecheck(task, { taskId: 'lo-filtered' });
  const item = pre.items.find((i) => i.id === 'objects.unsupported');
  assert.equal(item?.result, 'warning');
  assert.ok(
    item?.objects.some((x) => /1 large object: not migrated when schemas or tables are selected/.test(x)),
    JSON.stringify(item),
  );
  await migrate(task, { events: new EventBus() });
  const n = await withClient(tgt.url('lo_other'), (c) =>
    c.query<{ n: string }>('SELECT count(*)::text AS n FROM pg_largeobject_metadata'),
  );
  assert.equal(n.rows[0].n, '0');
});

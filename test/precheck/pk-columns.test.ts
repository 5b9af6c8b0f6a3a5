// columns.subset names the primary key columns a subset leaves out, read from the catalog facts as
// a list of names: a column whose name is part of a key column's name (`a` of key `ab`) is no key
// column (the names once came as the text of a name[] array, where `a` matched inside "{ab}").
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { runPrecheck } from '../../src/stages/precheck/index.js';
import { validateTask } from '../../src/core/config.js';
import { withClient } from '../helpers/compare.js';

let pgc: Cluster;

before(async () => {
  pgc = await startCluster({ version: 15, name: 'pgferry-pkcols' });
});
after(async () => {
  await pgc?.stop();
});

test('columns.subset: a left-out column named like part of a key column is not called a key column', async () => {
  await withClient(pgc.url(), (c) => c.query('CREATE DATABASE pk_src'));
  await withClient(pgc.url(), (c) => c.query('CREATE DATABASE pk_tgt'));
  await withClient(pgc.url('pk_src'), (c) =>
    c.query('CREATE TABLE public.t (ab int PRIMARY KEY, a text, b text, keep text)'),
  );
  const task = validateTask({
    source: pgc.url('pk_src'),
    target: pgc.url('pk_tgt'),
    tables: { 'public.t': { columns: ['keep'] } },
  });
  const r = await runPrecheck(task);
  const item = r.items.find((i) => i.id === 'columns.subset')!;
  assert.deepEqual(item.objects, ['public.t.ab: primary key column left out']);
});

/**
 * roles at many tables: one role owns (and one is granted) every table. The check gathers the objects
 * per role; it copied a role's whole list for every table it added (quadratic: 5.3 s of CPU at 20,000
 * tables, minutes at 150,000). The model is a synthetic view of 150,000 tables — too many to create —
 * checked against a real target server (PostgreSQL 15).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { Selection } from '../../src/core/selection.js';
import { validateTask } from '../../src/core/config.js';
import { roles } from '../../src/stages/precheck/roles.js';
import type { SrcTable } from '../../src/stages/precheck/model.js';
import type { Ctx } from '../../src/stages/precheck/types.js';
import { DEFAULT_THRESHOLDS } from '../../src/stages/precheck/types.js';

async function connectUrl(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  return c;
}

const N = 150_000;
let cl: Cluster;
let src: pg.Client;
let tgt: pg.Client;

before(async () => {
  cl = await startCluster({ version: 15, name: 'pgferry-roles-many' });
  src = await connectUrl(cl.url());
  await src.query('CREATE ROLE many_owner NOLOGIN; CREATE ROLE many_reader NOLOGIN');
  tgt = await connectUrl(cl.url());
});

after(async () => {
  await src?.end().catch(() => {});
  await tgt?.end().catch(() => {});
  await cl?.stop();
});

test(`roles: ${N} tables of one owner, granted to one role, checked in one pass`, { timeout: 90_000 }, async () => {
  const task = validateTask({ name: 'many', source: cl.url(), target: cl.url() });
  const tables: SrcTable[] = Array.from({ length: N }, (_, i) => ({
    oid: String(100000 + i),
    schema: 'public',
    name: `t${i}`,
    kind: 'r',
    key: `public.t${i}`,
    target: { schema: 'public', name: `t${i}` },
    owner: 'many_owner',
    acl: ['many_owner=arwdDxt/many_owner', 'many_reader=r/many_owner'],
    hasKey: true,
    pkColumns: ['id'],
    bytes: 8192,
    tablespace: null,
    columns: [],
  }));
  const ctx: Ctx = {
    task,
    sel: new Selection(task),
    thresholds: DEFAULT_THRESHOLDS,
    sourcePing: { ok: true, serverVersionNum: 150000 } as Ctx['sourcePing'],
    targetPing: { ok: true, serverVersionNum: 150000 } as Ctx['targetPing'],
    source: src,
    target: tgt,
    sourceVersion: 150000,
    targetVersion: 150000,
    model: {
      user: 'postgres',
      superuser: true,
      database: 'postgres',
      schemas: [],
      tables,
      sequences: [],
      allSchemas: ['public'],
    },
  };
  const out = await roles.run(ctx);
  // the target account (superuser) may give ownership to both roles, which exist
  assert.equal(out.result, 'passed', out.message);
});

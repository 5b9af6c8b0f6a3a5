// pgferry's type parsers belong to its own clients: loading pgferry leaves node-postgres' global
// registry as it was, and parsers an embedding application sets there do not change what
// pgferry's sessions read (int8 and numeric stay exact strings).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { resolveConnSpec } from '../../src/pg/connstring.js';
import { withClient } from '../helpers/compare.js';

let srv: Cluster;
before(async () => {
  srv = await startCluster({ version: 15, name: 'pgferry-types' });
});
after(async () => {
  await srv?.stop();
});

const VALUES = `SELECT 9007199254740993::int8 AS big, 1.10::numeric AS n, 7::int4 AS i, true AS b`;

test('type parsers are set per client, never on the global registry', async () => {
  const int8Before = pg.types.getTypeParser(20, 'text');
  const numericBefore = pg.types.getTypeParser(1700, 'text');
  // loaded only now: the test sees the registry before and after pgferry's connection module
  const { connect } = await import('../../src/pg/connect.js');
  assert.equal(pg.types.getTypeParser(20, 'text'), int8Before, 'loading pgferry changed the global int8 parser');
  assert.equal(pg.types.getTypeParser(1700, 'text'), numericBefore, 'loading pgferry changed the numeric parser');

  // the embedding application wants numbers (lossy) for its own queries
  pg.types.setTypeParser(20, (v: string) => Number(v));
  pg.types.setTypeParser(1700, (v: string) => Number.parseFloat(v));
  try {
    const c = await connect(resolveConnSpec(srv.url(), { env: {}, home: '/nonexistent' }), { label: 'source' });
    try {
      const r = await c.query(VALUES);
      assert.deepEqual(r.rows[0], { big: '9007199254740993', n: '1.10', i: 7, b: true });
    } finally {
      await c.end();
    }
    // …and its own clients still get what it asked for
    const own = await withClient(srv.url(), (x) => x.query(VALUES));
    assert.deepEqual(own.rows[0], { big: 9007199254740992, n: 1.1, i: 7, b: true });
  } finally {
    pg.types.setTypeParser(20, int8Before);
    pg.types.setTypeParser(1700, numericBefore);
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import pg from 'pg';
import { startCluster } from '../../src/dev/embedded/cluster.js';

for (const version of [12, 15, 17]) {
  test(`harness starts and tears down PostgreSQL ${version}`, async () => {
    const c = await startCluster({ version });
    try {
      const client = new pg.Client({ connectionString: c.url() });
      await client.connect();
      const r = await client.query<{ v: string }>("SELECT current_setting('server_version_num') AS v");
      await client.end();
      assert.equal(Math.floor(Number(r.rows[0].v) / 10000), version);
    } finally {
      await c.stop();
    }
    assert.equal(existsSync(c.dataDir), false);
  });
}

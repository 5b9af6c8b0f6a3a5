// A control database on PostgreSQL 12, owned by an account that is no superuser (as a 12 → 12
// migration's target may serve): the job system needs gen_random_uuid(), which PostgreSQL 12 has only
// from the pgcrypto extension. A worker refuses it with the cause and the fix, and once a superuser has
// done what the fix says, the worker starts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { withClient } from '../helpers/compare.js';
import { until } from '../workers/fixture.js';

const PW = 'Ctl-owner-pw-1312';
let pg12: Cluster;

before(async () => {
  pg12 = await startCluster({ version: 12, hba: ['host all ctl_owner 127.0.0.1/32 md5'] });
  await withClient(pg12.url(), async (c) => {
    await c.query(`CREATE ROLE ctl_owner LOGIN PASSWORD '${PW}'`);
    await c.query('CREATE DATABASE ctl OWNER ctl_owner');
  });
});

after(async () => {
  await pg12?.stop();
});

const worker = ['bin/pgferry.js', 'worker', '--jobs', '1', '--control'];

test('a PostgreSQL 12 control database without pgcrypto: the worker names the cause and the fix; with it, the worker runs', async () => {
  const url = pg12.url('ctl', 'ctl_owner', PW);
  const r = spawnSync(process.execPath, [...worker, url], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /the control database .* runs PostgreSQL 12\.\d+, which has no gen_random_uuid\(\)/);
  assert.match(
    r.stderr,
    /fix: use a control database on PostgreSQL 13 or newer, or have a superuser run CREATE EXTENSION pgcrypto/,
  );
  assert.ok(!r.stderr.includes(PW) && !r.stdout.includes(PW), 'the password is not shown');
  // nothing was made in the control database by the refused worker
  const made = await withClient(pg12.url('ctl'), (c) =>
    c.query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'pgferry%' ORDER BY 1`),
  );
  assert.deepEqual(made.rows, []);
  // the fix, as the message says it
  await withClient(pg12.url('ctl'), (c) => c.query('CREATE EXTENSION pgcrypto'));
  const child = spawn(process.execPath, [...worker, url], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((res) => child.on('close', res));
  try {
    assert.ok(await until(async () => /copying units of running tasks/.test(out), 60_000), out);
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, out);
});

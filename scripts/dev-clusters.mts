// Starts a throwaway source (with the demo's sample database "shop") and an empty target, prints
// their URLs and keeps them running until Ctrl-C — for trying pgferry commands by hand.
//   npx tsx scripts/dev-clusters.mts [sourceMajor] [targetMajor] [scale]
import pg from 'pg';
import { startCluster } from '../src/dev/embedded/cluster.js';
import { sampleDatabaseSql } from '../src/dev/demo/sample.js';

const [from = '12', to = '17', scale = '1'] = process.argv.slice(2);
const a = await startCluster({ version: Number(from), name: 'pgferry-dev' });
const b = await startCluster({ version: Number(to), name: 'pgferry-dev' });
const q = async (url: string, sql: string) => {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query(sql);
  await c.end();
};
await q(a.url(), 'CREATE DATABASE shop');
await q(b.url(), 'CREATE DATABASE shop');
await q(a.url('shop'), sampleDatabaseSql(Number(scale)));
console.log(`source: ${a.url('shop')}`);
console.log(`target: ${b.url('shop')}`);
setInterval(() => {}, 1 << 30);

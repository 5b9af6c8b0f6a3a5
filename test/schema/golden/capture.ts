/**
 * Records the DDL generator's input and output for the golden test (test/schema/ddl-golden.test.ts):
 * the catalog models of the schema fixtures read from real PostgreSQL 15 and 12 sources, and for each
 * task variant the full generated schema. Run with `npx tsx test/schema/golden/capture.ts` only when
 * the generator's output is meant to change; the test then holds the new output.
 */
import { writeFileSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { startCluster, type Cluster } from '../../../src/dev/embedded/cluster.js';
import { introspect } from '../../../src/stages/schema/catalog/introspect.js';
import { generateDdl } from '../../../src/stages/schema/ddl/generate.js';
import { Selection } from '../../../src/core/selection.js';
import { client, createDb, createRoles, fixture, runSql, task } from '../helpers.js';
import { rolesFor, sourceObjectsSql } from '../../e2e/least-privilege-fixture.js';
import { VARIANTS } from './variants.js';

const FIDELITY = readFileSync(fileURLToPath(new URL('../fixtures/fidelity.sql', import.meta.url)), 'utf8');

async function capture(cluster: Cluster, v: number, name: string, sql: string): Promise<void> {
  const url = await createDb(cluster, `golden_${name.replace(/-/g, '_')}`);
  await runSql(url, sql);
  const c = await client(url);
  try {
    const model = await introspect(c);
    const cases = VARIANTS.map((over) => ({ over, out: generateDdl(model, new Selection(task(over))) }));
    const file = fileURLToPath(new URL(`./${name}-${v}.json.gz`, import.meta.url));
    writeFileSync(file, gzipSync(JSON.stringify({ model, cases })));
    console.log(file, cases.map((x) => x.out.statements.length).join(' '));
  } finally {
    await c.end();
  }
}

for (const v of [15, 12]) {
  const cl = await startCluster({ version: v, name: 'pgferry-golden' });
  try {
    await createRoles(cl);
    await capture(cl, v, 'kitchen-sink', fixture(v));
    await capture(cl, v, 'fidelity', FIDELITY);
    await capture(cl, v, 'least-privilege', sourceObjectsSql(rolesFor('gold'), 'golden_least_privilege'));
  } finally {
    await cl.stop();
  }
}

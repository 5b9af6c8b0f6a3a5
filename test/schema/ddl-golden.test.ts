/**
 * The DDL generator's whole output, statement by statement (key, kind, name, section, SQL, drop), for the
 * catalog models of the schema fixtures read from PostgreSQL 15 and 12 (kitchen sink, fidelity,
 * least privilege) under several task variants, against the output recorded by golden/capture.ts.
 * A change here is a change of the DDL pgferry runs on targets: re-record only on purpose.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { generateDdl } from '../../src/stages/schema/ddl/generate.js';
import { Selection } from '../../src/core/selection.js';
import type { CatalogModel } from '../../src/stages/schema/catalog/model.js';
import { task } from './helpers.js';

const dir = fileURLToPath(new URL('./golden/', import.meta.url));

interface Golden {
  model: CatalogModel;
  cases: { over: Record<string, unknown>; out: unknown }[];
}

for (const f of readdirSync(dir).filter((x) => x.endsWith('.json.gz'))) {
  test(`generated DDL of ${f.replace('.json.gz', '')} is unchanged`, () => {
    const g = JSON.parse(gunzipSync(readFileSync(dir + f)).toString('utf8')) as Golden;
    assert.ok(g.cases.length > 0);
    for (const c of g.cases) {
      const out = JSON.parse(JSON.stringify(generateDdl(g.model, new Selection(task(c.over)))));
      assert.deepEqual(out, c.out, JSON.stringify(c.over));
    }
  });
}

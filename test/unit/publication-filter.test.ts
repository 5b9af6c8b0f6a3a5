// The publication of an incremental task embeds each table's row filter in CREATE PUBLICATION, which
// runs on the source in a writable transaction: the filter passes checkRowFilter there too, as at every
// other place a filter is put into a query, whatever built the table list.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PgferryError } from '../../src/core/errors.js';
import { publicationSql } from '../../src/stages/cdc/publication.js';
import type { CopyTable } from '../../src/stages/data/plan/types.js';

const table = (where?: string): CopyTable => ({
  key: 'app."T.1"',
  source: { schema: 'app', name: 'T.1' },
  target: { schema: 'app', name: 'T.1' },
  columns: [{ source: 'id', target: 'id', type: 'integer' }],
  hasPrimaryKey: true,
  ...(where ? { where } : {}),
});

test('a row filter is checked where the publication embeds it', () => {
  assert.equal(
    publicationSql('pub', [table("id > 10 AND note <> 'x'")], 150000),
    `CREATE PUBLICATION pub FOR TABLE app."T.1" WHERE (id > 10 AND note <> 'x') WITH (publish_via_partition_root = true)`,
  );
  for (const bad of ['true); DROP TABLE app.x; --', 'pg_terminate_backend(1) IS NOT NULL', 'id IN (SELECT 1)']) {
    assert.throws(
      () => publicationSql('pub', [table(bad)], 150000),
      (e: unknown) => e instanceof PgferryError && /row filter .* refused/.test(e.message),
      bad,
    );
  }
});

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { validateTask } from '../../src/core/config.js';
import { verify } from '../../src/stages/verify/index.js';
import type { VerifyReport } from '../../src/stages/verify/types.js';
import { verifyCommand } from '../../src/cli/commands/verify.js';
import { FIXTURE_SQL, FILTER_SOURCE_SQL, FILTER_TARGET_SQL } from './fixture.js';
import { writesBetweenReads } from '../helpers/between-reads.js';

let src: Cluster;
let tgt: Cluster;
let dbn = 0;

async function sql(url: string, text: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

/** A fresh database on both sides with the fixture loaded (a clean migration), then `damage` run on the target. */
async function pair(
  damage = '',
  srcSql = FIXTURE_SQL,
  tgtSql = FIXTURE_SQL,
): Promise<{ source: string; target: string }> {
  const db = `v${++dbn}`;
  await Promise.all([sql(src.url(), `CREATE DATABASE ${db}`), sql(tgt.url(), `CREATE DATABASE ${db}`)]);
  await Promise.all([sql(src.url(db), srcSql), sql(tgt.url(db), tgtSql)]);
  if (damage) await sql(tgt.url(db), damage);
  return { source: src.url(db), target: tgt.url(db) };
}

const task = (p: { source: string; target: string }, extra: Record<string, unknown> = {}) =>
  validateTask({ ...p, jobs: 2, ...extra });
const table = (r: VerifyReport, key: string) => {
  const t = r.tables.find((x) => x.key === key);
  assert.ok(t, `table ${key} in report`);
  return t;
};
const badTables = (r: VerifyReport) => r.tables.filter((t) => !t.ok).map((t) => t.key);

/** Run `pgferry verify` in-process; returns exit code and stdout. */
async function cli(args: string[]): Promise<{ code: number; stdout: string }> {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((c: string | Uint8Array) => {
    chunks.push(String(c));
    return true;
  }) as typeof process.stdout.write;
  process.exitCode = 0;
  try {
    await verifyCommand().exitOverride().parseAsync(args, { from: 'user' });
  } finally {
    process.stdout.write = write;
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { code, stdout: chunks.join('') };
}

before(async () => {
  [src, tgt] = await Promise.all([
    startCluster({ version: 15, name: 'pgferry-verify' }),
    startCluster({ version: 17, name: 'pgferry-verify' }),
  ]);
});
after(async () => {
  await Promise.all([src?.stop(), tgt?.stop()]);
});

describe('verify', () => {
  test('everything is read from the source in one snapshot: rows and a table committed between its reads are in none', async () => {
    // (explicit ids: a sequence's state is not transactional, no snapshot holds it back)
    const change = `INSERT INTO items (id, name, price) SELECT 100 + g, 'late ' || g, 1 FROM generate_series(1, 7) g;
      DELETE FROM nokey WHERE x = 1; CREATE TABLE late (id int PRIMARY KEY); CREATE INDEX late_idx ON "Order Lines" (qty);`;
    for (const mode of ['count', 'hash'] as const) {
      const p = await pair();
      const { result: r, wrote } = await writesBetweenReads(
        // after the table list, before the objects, sequences and rows are read
        { port: src.port, match: /c\.relkind IN \('r', 'p'\)/, url: p.source, sql: change },
        () => verify(task(p), { mode }),
      );
      assert.ok(wrote);
      const bad = { t: badTables(r), s: r.sequences.filter((x) => !x.ok), o: r.objects.filter((o) => !o.ok) };
      assert.equal(r.ok, true, JSON.stringify(bad, null, 1));
      assert.equal(table(r, 'public.items').sourceRows, 20);
      // The source did change: read now, it differs from the target.
      const now = await verify(task(p), { mode: 'count' });
      assert.deepEqual(badTables(now), ['public.items', 'public.late', 'public.nokey']);
    }
  });

  test('a clean pair verifies in count and hash mode (PostgreSQL 15 → 17)', async () => {
    const p = await pair();
    for (const mode of ['count', 'hash'] as const) {
      const r = await verify(task(p), { mode, chunkRows: 5 });
      assert.equal(
        r.ok,
        true,
        JSON.stringify(
          { t: r.tables.filter((t) => !t.ok), s: r.sequences.filter((s) => !s.ok), o: r.objects.filter((o) => !o.ok) },
          null,
          1,
        ),
      );
      assert.equal(r.tables.length, 3);
      assert.equal(table(r, 'public.items').sourceRows, 20);
      assert.equal(table(r, 'public."Order Lines"').targetRows, 30);
      assert.equal(table(r, 'public.nokey').sourceRows, 14);
      if (mode === 'hash') {
        assert.deepEqual(table(r, 'public.items').keyColumns, ['id']);
        assert.equal(table(r, 'public.items').chunks, 4);
        assert.deepEqual(table(r, 'public.nokey').keyColumns, []);
      }
      assert.ok(r.sequences.some((s) => s.key === 'public.counter_seq' && s.source?.lastValue === '5'));
      const kinds = Object.fromEntries(r.objects.map((o) => [o.kind, o.sourceCount]));
      assert.equal(kinds.tables, 3);
      assert.equal(kinds.views, 1);
      assert.equal(kinds.indexes, 3);
      assert.equal(kinds.functions, 1);
      assert.equal(kinds.triggers, 1);
      assert.equal(kinds.types, 1);
      assert.equal(kinds['constraints:check'], 1);
      assert.equal(kinds.sequences, 2);
    }
  });

  test('a missing row is located to its table and key range', async () => {
    const p = await pair(`DELETE FROM items WHERE id = 7`);
    const c = await verify(task(p), { mode: 'count' });
    assert.equal(c.ok, false);
    assert.deepEqual(badTables(c), ['public.items']);
    assert.equal(table(c, 'public.items').targetRows, 19);
    const h = await verify(task(p), { mode: 'hash', chunkRows: 5, examples: 3 });
    assert.equal(h.ok, false);
    assert.deepEqual(badTables(h), ['public.items']);
    const t = table(h, 'public.items');
    assert.equal(t.mismatches.length, 1);
    const m = t.mismatches[0];
    assert.deepEqual([m.lower, m.upper, m.sourceCount, m.targetCount], [['6'], ['11'], 5, 4]);
    assert.equal(m.range, 'id >= "6" AND id < "11"');
    assert.equal(m.examples.length, 1);
    assert.equal(m.examples[0].side, 'source-only');
    assert.deepEqual(m.examples[0].key, ['7']);
    assert.match(m.examples[0].row, /item 7/);
  });

  test('an extra row is located (composite key)', async () => {
    const p = await pair(`INSERT INTO "Order Lines" VALUES (4, 'zz', 99)`);
    const c = await verify(task(p), { mode: 'count' });
    assert.deepEqual(badTables(c), ['public."Order Lines"']);
    const h = await verify(task(p), { mode: 'hash', chunkRows: 6 });
    assert.deepEqual(badTables(h), ['public."Order Lines"']);
    const t = table(h, 'public."Order Lines"');
    assert.deepEqual(t.keyColumns, ['a', 'b']);
    assert.equal(t.mismatches.length, 1);
    const m = t.mismatches[0];
    // keys sorted (a, b): 6 rows per range → range 3 starts at (4,'x0'), range 4 at (6,'x0')
    assert.deepEqual([m.lower, m.upper, m.sourceCount, m.targetCount], [['4', 'x0'], ['6', 'x0'], 6, 7]);
    assert.deepEqual(
      m.examples.map((x) => [x.side, x.key]),
      [['target-only', ['4', 'zz']]],
    );
  });

  test('a changed value in one column is found by hash (not by count)', async () => {
    const p = await pair(
      `UPDATE items SET weight = weight + 1e-12 WHERE id = 13; UPDATE nokey SET y = 'changed' WHERE y = 'v5'`,
    );
    const c = await verify(task(p), { mode: 'count' });
    assert.deepEqual(badTables(c), []);
    const h = await verify(task(p), { mode: 'hash', chunkRows: 5 });
    assert.deepEqual(badTables(h), ['public.items', 'public.nokey']);
    const m = table(h, 'public.items').mismatches;
    assert.equal(m.length, 1);
    assert.deepEqual([m[0].lower, m[0].upper, m[0].sourceCount, m[0].targetCount], [['11'], ['16'], 5, 5]);
    assert.deepEqual(
      m[0].examples.map((x) => [x.side, x.key]),
      [
        ['source-only', ['13']],
        ['target-only', ['13']],
      ],
    );
    const n = table(h, 'public.nokey').mismatches;
    assert.equal(n.length, 1);
    assert.equal(n[0].range, 'whole table');
    assert.deepEqual(
      n[0].examples.map((x) => [x.side, x.row]),
      [
        ['source-only', '(1,v5)'],
        ['target-only', '(1,changed)'],
      ],
    );
  });

  test('a changed sequence value is reported', async () => {
    const p = await pair(`SELECT setval('counter_seq', 3)`);
    const r = await verify(task(p), { mode: 'count' });
    assert.equal(r.ok, false);
    assert.deepEqual(badTables(r), []);
    const bad = r.sequences.filter((s) => !s.ok);
    assert.deepEqual(
      bad.map((s) => [s.key, s.source?.lastValue, s.targetState?.lastValue]),
      [['public.counter_seq', '5', '3']],
    );
  });

  test('a missing index is reported by name', async () => {
    const p = await pair(`DROP INDEX items_name_idx`);
    const r = await verify(task(p), { mode: 'count' });
    assert.equal(r.ok, false);
    assert.deepEqual(badTables(r), []);
    const bad = r.objects.filter((o) => !o.ok);
    assert.deepEqual(
      bad.map((o) => [o.kind, o.sourceCount, o.targetCount, o.missing]),
      [['indexes', 3, 2, ['public.items_name_idx on public.items']]],
    );
  });

  test('row filter, column subset and renames are honoured', async () => {
    const p = await pair('', FILTER_SOURCE_SQL, FILTER_TARGET_SQL);
    const t = task(p, {
      tables: {
        'public.filt': {
          where: "kind = 'keep'",
          columns: ['id', 'kind'],
          rename: 'filt2',
          columnMap: { kind: 'category' },
        },
      },
    });
    for (const mode of ['count', 'hash'] as const) {
      const r = await verify(t, { mode, chunkRows: 7 });
      assert.equal(r.ok, true, JSON.stringify(r, null, 1));
      const f = table(r, 'public.filt');
      assert.equal(f.target, 'public.filt2');
      assert.equal(f.sourceRows, 20);
      assert.equal(f.targetRows, 20);
    }
    // and a difference in a filtered table is still seen
    await sql(p.target, `UPDATE filt2 SET category = 'drop' WHERE id = 10`);
    const r = await verify(t, { mode: 'hash', chunkRows: 7 });
    assert.deepEqual(badTables(r), ['public.filt']);
    assert.deepEqual(
      table(r, 'public.filt').mismatches[0].examples.map((x) => [x.side, x.row]),
      [
        ['source-only', '(10,keep)'],
        ['target-only', '(10,drop)'],
      ],
    );
  });

  test('include-table narrows tables, and a table missing on the target fails', async () => {
    const p = await pair(`DROP TABLE nokey`);
    const narrowed = await verify(task(p, { includeTables: ['public.items'] }), { mode: 'hash' });
    assert.equal(narrowed.ok, true, JSON.stringify(narrowed.objects.filter((o) => !o.ok)));
    assert.deepEqual(
      narrowed.tables.map((t) => t.key),
      ['public.items'],
    );
    const all = await verify(task(p), { mode: 'hash' });
    assert.deepEqual(badTables(all), ['public.nokey']);
    assert.match(table(all, 'public.nokey').error ?? '', /does not exist on the target/);
  });

  test('pgferry verify exits 0 on a clean pair and 5 on a difference', async () => {
    const p = await pair();
    const ok = await cli(['--source', p.source, '--target', p.target, '--mode', 'hash']);
    assert.equal(ok.code, 0, ok.stdout);
    assert.match(ok.stdout, /verification OK \(hash mode/);
    await sql(p.target, `DELETE FROM items WHERE id = 20`);
    const bad = await cli([
      '--source',
      p.source,
      '--target',
      p.target,
      '--mode',
      'hash',
      '--json',
      '--examples',
      '1',
      '--chunk-rows',
      '10',
    ]);
    assert.equal(bad.code, 5);
    const r = JSON.parse(bad.stdout) as VerifyReport;
    assert.equal(r.ok, false);
    assert.deepEqual(
      table(r, 'public.items').mismatches.map((m) => [m.range, m.examples.map((x) => x.key)]),
      [['id >= "11"', [['20']]]],
    );
    const count = await cli(['--source', p.source, '--target', p.target, '--exclude-table', 'public.items']);
    assert.equal(count.code, 0, count.stdout);
    assert.doesNotMatch(count.stdout, /table public\.items/);
  });

  test('schema mapping: source public is compared with target app', async () => {
    const p = await pair(
      `UPDATE app.items SET name = 'renamed' WHERE id = 2`,
      FIXTURE_SQL,
      `CREATE SCHEMA app; SET search_path = app, public;\n${FIXTURE_SQL}`,
    );
    const r = await verify(task(p, { mapSchemas: { public: 'app' } }), { mode: 'hash', chunkRows: 10 });
    assert.deepEqual(badTables(r), ['public.items']);
    assert.equal(table(r, 'public.items').target, 'app.items');
    assert.deepEqual(
      table(r, 'public.items').mismatches.map((m) => m.range),
      ['id < "11"'],
    );
    assert.deepEqual(
      r.objects.filter((o) => !o.ok),
      [],
    );
    assert.ok(r.sequences.every((s) => s.ok && s.target.startsWith('app.')));
  });
});

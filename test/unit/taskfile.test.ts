// Task files: YAML or JSON, validated, with errors that name the file, line and field.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTaskFile } from '../../src/core/config.js';
import { Selection } from '../../src/core/selection.js';
import type { PgferryError } from '../../src/core/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'pgferry-taskfile-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

test('a valid YAML task with selection, mapping and per-table options', () => {
  const t = loadTaskFile(
    file(
      'ok.yaml',
      [
        'source: postgresql://a@h1/app',
        'target: postgresql://b@h2/app',
        'includeSchemas: [public, "My Schema"]',
        'mapSchemas: { public: app }',
        'tables:',
        '  \'"My Schema"."Order Items"\':',
        '    where: qty > 0',
        '    columns: [id, qty]',
        '    rename: order_items',
        'copy: { maxRowsPerSec: 1000 }',
      ].join('\n'),
    ),
  );
  const sel = new Selection(t);
  assert.equal(t.copy.maxRowsPerSec, 1000);
  assert.equal(t.copy.retryTimeSec, 1800);
  assert.equal(sel.rowFilter('My Schema', 'Order Items'), 'qty > 0');
  assert.deepEqual(sel.targetTable('My Schema', 'Order Items'), { schema: 'My Schema', name: 'order_items' });
  assert.deepEqual(sel.targetTable('public', 'x'), { schema: 'app', name: 'x' });
  assert.equal(sel.tableSelected('other', 'x'), false);
});

test('JSON task files are accepted too, and flags override them', () => {
  const t = loadTaskFile(file('ok.json', '{"source": "s", "target": "t", "jobs": 2}'), { jobs: 6 });
  assert.equal(t.jobs, 6);
});

test('wrong types and unknown keys are reported with line and field', () => {
  const p = file('bad.yaml', 'source: x\ntarget: y\njobs: many\ntables:\n  public.t:\n    colums: [a]\n');
  assert.throws(
    () => loadTaskFile(p),
    (e: Error) => {
      assert.match(e.message, new RegExp(`${p}:3: jobs: .*expected number`));
      assert.match(
        e.message,
        new RegExp(`${p}:6: tables\\.public\\.t\\.colums: unknown key — did you mean "columns"\\?`),
      );
      return true;
    },
  );
});

test('YAML syntax errors point at the line', () => {
  const p = file('syntax.yaml', 'source: x\ntarget: [y\n');
  assert.throws(() => loadTaskFile(p), new RegExp(`${p}:\\d+:\\d+: `));
});

test('globs and quoted names select tables', () => {
  const t = loadTaskFile(
    file(
      'glob.yaml',
      'source: s\ntarget: t\nincludeTables: ["sales.order_*", \'"My Schema".*\']\nexcludeTables: [sales.order_tmp]\n',
    ),
  );
  const sel = new Selection(t);
  assert.equal(sel.tableSelected('sales', 'order_items'), true);
  assert.equal(sel.tableSelected('sales', 'order_tmp'), false);
  assert.equal(sel.tableSelected('sales', 'customers'), false);
  assert.equal(sel.tableSelected('My Schema', 'Anything'), true);
});

test('a distributed task cannot be incremental: one message naming the line, the cause and the fix', () => {
  const p = file('dist-incr.yaml', 'source: s\ntarget: t\nincremental: true\ndistributed: true\n');
  assert.throws(
    () => loadTaskFile(p),
    (e: PgferryError) => {
      assert.equal(e.kind, 'usage');
      assert.match(e.message, new RegExp(`${p}:4: distributed: a distributed task cannot be incremental yet`));
      assert.match(e.hint ?? '', /^leave out distributed \(--distributed\) or incremental \(--incremental\)/);
      return true;
    },
  );
  // either alone is a task, and so is distributed: false with incremental
  assert.equal(loadTaskFile(p, { incremental: false }).distributed, true);
  assert.equal(loadTaskFile(p, { distributed: false }).incremental, true);
  // with another wrong field, the general fix
  assert.throws(
    () => loadTaskFile(p, { jobs: 0 }),
    (e: PgferryError) => /fix the fields named above/.test(e.hint ?? ''),
  );
});

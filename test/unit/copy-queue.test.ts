// Planning order of the copy units: heaviest tables first, a table's units together; done units skipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Statement } from '../../src/core/statement.js';
import type { CopyTable } from '../../src/stages/data/plan/types.js';
import type { TableSize } from '../../src/stages/data/plan/units.js';
import { countTargets, groupEarly, planRuns, type RunPlanInput } from '../../src/stages/data/copy/plan-runs.js';
import { orderUnits, tableWeight, UnitQueue } from '../../src/stages/data/copy/queue.js';

const table = (name: string, target = name): CopyTable => ({
  key: `public.${name}`,
  source: { schema: 'public', name },
  target: { schema: 'public', name: target },
  columns: [],
  hasPrimaryKey: false,
});
const size = (key: string, bytes: number): TableSize => ({
  key,
  bytes,
  blocks: bytes / 8192,
  blockSize: 8192,
  estRows: bytes / 100,
});
const idx = (table: string, name: string): Statement => ({
  key: name,
  kind: 'index',
  name,
  section: 'early',
  sql: `CREATE INDEX ${name} ON ${table} (a);`,
  table,
});

function input(tables: CopyTable[], over: Partial<RunPlanInput> = {}): RunPlanInput {
  return {
    tables,
    boundaries: new Map(tables.map((t) => [t.key, [0]])),
    sizes: new Map(),
    done: new Map(),
    format: 'binary',
    textOnly: new Map(),
    targetCount: countTargets(tables),
    earlyByTable: new Map(),
    noFreeze: false,
    ...over,
  };
}

test('heaviest table first: heap bytes × (1 + index builds still to do), ties by name, units in block order', () => {
  const [a, b, c, d] = [table('a'), table('b'), table('c'), table('d')];
  const sizes = new Map([
    [a.key, size(a.key, 8192 * 10)],
    [b.key, size(b.key, 8192 * 40)],
    [c.key, size(c.key, 8192 * 25)],
    [d.key, size(d.key, 8192 * 40)],
  ]);
  const boundaries = new Map([
    [a.key, [0]],
    [b.key, [20, 0]],
    [c.key, [0]],
    [d.key, [0, 10, 30]],
  ]);
  // c: 25 blocks × (1 + 1 index) = 50 > b, d: 40 × 1
  const early = groupEarly([idx(c.key, 'c_a')], [a, b, c, d], new Set());
  const plan = planRuns(input([a, b, c, d], { sizes, boundaries, earlyByTable: early.byTable }));
  assert.deepEqual(
    plan.pending.map((u) => u.id),
    ['public.c#0', 'public.b#0', 'public.b#20', 'public.d#0', 'public.d#10', 'public.d#30', 'public.a#0'],
  );
  assert.equal(tableWeight(100, 2), 300);
});

test('units done by an earlier run are counted, not queued; their lineage is kept', () => {
  const a = table('a');
  const done = new Map([['public.a#0', { rows: '7', bytes: '70', snapshot: 'L1' }]]);
  const plan = planRuns(input([a], { boundaries: new Map([[a.key, [0, 5]]]), done }));
  assert.deepEqual(
    plan.pending.map((u) => u.id),
    ['public.a#5'],
  );
  const run = plan.runs.get(a.key)!;
  assert.deepEqual(
    { left: run.left, skipped: run.skipped, rows: run.rows, bytes: run.bytes, lineage: run.lineage },
    { left: 1, skipped: 1, rows: 7, bytes: 70, lineage: 'L1' },
  );
  assert.deepEqual([...plan.usedLineages], ['L1']);
});

test('COPY FREEZE only for a single-unit table that alone fills its target, and not when switched off', () => {
  const [a, b, c1, c2] = [table('a'), table('b'), table('c1', 'c'), table('c2', 'c')];
  const boundaries = new Map([
    [a.key, [0]],
    [b.key, [0, 8]],
    [c1.key, [0]],
    [c2.key, [0]],
  ]);
  const freeze = (noFreeze: boolean) => {
    const plan = planRuns(input([a, b, c1, c2], { boundaries, noFreeze }));
    return [...plan.runs.values()].map((r) => [r.table.key, r.freezeOk]);
  };
  const rest = [
    ['public.b', false],
    ['public.c1', false],
    ['public.c2', false],
  ];
  assert.deepEqual(freeze(false), [['public.a', true], ...rest]);
  assert.deepEqual(freeze(true), [['public.a', false], ...rest]);
});

test('early statements of tables not copied are kept apart, those done dropped', () => {
  const a = table('a');
  const g = groupEarly([idx(a.key, 'x'), idx('public.zz', 'y'), idx(a.key, 'z')], [a], new Set(['z']));
  assert.deepEqual(
    [...g.byTable].map(([k, v]) => [k, v.map((s) => s.key)]),
    [['public.a', ['x']]],
  );
  assert.deepEqual(
    g.orphans.map((s) => s.key),
    ['y'],
  );
});

test('a table emptied for a recopy goes to the front of the queue', () => {
  const a = table('a');
  const plan = planRuns(input([a], { boundaries: new Map([[a.key, [0, 4, 8]]]) }));
  const q = new UnitQueue(orderUnits(plan.pending.slice(1), () => 0));
  assert.equal(q.take()?.id, 'public.a#4');
  q.requeue([plan.pending[0]]);
  assert.deepEqual(q.ids(), ['public.a#0', 'public.a#8']);
});

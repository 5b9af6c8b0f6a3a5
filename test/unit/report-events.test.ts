import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBus, type TimedEvent } from '../../src/core/events.js';
import { buildReport, collectEvents } from '../../src/stages/report/index.js';

/** A run of `n` tables as the copy stage reports it: per table, start, units, indexes, progress, done. */
function emitRun(bus: EventBus, n: number): void {
  bus.emit({ type: 'task-start', task: 'x', source: 's', target: 't', resumed: false });
  bus.emit({ type: 'phase-start', phase: 'data' });
  for (let i = 0; i < n; i++) {
    const table = `public.t${i}`;
    bus.emit({ type: 'object', action: 'created', kind: 'table', name: table, section: 'pre-data' });
    bus.emit({ type: 'table-start', table, units: 1, estRows: 50, estBytes: 8192 });
    bus.emit({ type: 'unit-done', table, unit: 'whole', rows: 50, bytes: 900, durationMs: 3 });
    bus.emit({ type: 'index-start', table, name: `t${i}_n_idx` });
    bus.emit({ type: 'index-done', table, name: `t${i}_n_idx`, durationMs: 2 });
    const active = [{ table, bytes: 900, estBytes: 8192, rows: 50, estRows: 50 }];
    bus.emit({
      type: 'progress',
      rows: 50 * i,
      bytes: 0,
      estRows: 0,
      estBytes: 0,
      rowsPerSec: 1,
      bytesPerSec: 1,
      etaSec: 1,
      active,
    });
    bus.emit({ type: 'table-done', table, rows: 50, bytes: 900, durationMs: 5, skippedUnits: 0 });
    bus.emit({ type: 'verify-result', table, ok: true, detail: '50 rows' });
  }
  bus.emit({ type: 'phase-end', phase: 'data', durationMs: 10, ok: true });
}

test('the report collector keeps only the events the report reads, and the report is the same', () => {
  const bus = new EventBus();
  const all: TimedEvent[] = [];
  bus.on((e) => all.push(e));
  const col = collectEvents(bus);
  emitRun(bus, 300);
  bus.emit({
    type: 'progress',
    rows: 1,
    bytes: 1,
    estRows: 1,
    estBytes: 1,
    rowsPerSec: 1,
    bytesPerSec: 1,
    etaSec: 0,
    active: [],
  });
  col.stop();
  // task-start, phase-start/-end, per table an object and a table-done, and the latest event.
  assert.equal(col.events.length, 2 + 300 * 2 + 1 + 1);
  assert.equal(col.events.at(-1)?.seq, all.at(-1)?.seq, 'the latest event is kept (the run end time)');
  const input = { taskId: 'x', source: 'postgresql://a@h/db', target: 'postgresql://b@h/db' };
  assert.deepEqual(buildReport({ ...input, events: col.events }), buildReport({ ...input, events: all }));
});

test('a run without task-start keeps its first event (the run start time)', () => {
  const bus = new EventBus();
  const col = collectEvents(bus);
  bus.emit({ type: 'index-start', table: 'a', name: 'i' });
  bus.emit({ type: 'index-done', table: 'a', name: 'i', durationMs: 1 });
  bus.emit({ type: 'index-start', table: 'b', name: 'j' });
  assert.deepEqual(
    col.events.map((e) => e.seq),
    [1, 3],
  );
});

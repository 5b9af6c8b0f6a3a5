// TTY progress: fits an 80-column terminal (no wrapped or stale rows), drops finished tables,
// shows index builds and post-data steps. Rendered into a virtual terminal here; the real pty
// run is in status-report.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBus, type FerryEvent } from '../../src/core/events.js';
import { attachProgress } from '../../src/cli/progress.js';
import { VirtualTerminal } from './vt.js';

const LONG = 'a_schema_with_a_rather_long_name.a_table_whose_name_goes_on_and_on_for_a_while';

function progress(active: { table: string; rows: number; estRows: number }[], rows: number): FerryEvent {
  return {
    type: 'progress',
    rows,
    bytes: rows * 100,
    estRows: 100_000,
    estBytes: 10_000_000,
    rowsPerSec: 12_345,
    bytesPerSec: 1_234_567,
    etaSec: 42,
    active: active.map((a) => ({ ...a, bytes: a.rows * 100, estBytes: a.estRows * 100 })),
  };
}

async function render(events: FerryEvent[], width = 80): Promise<{ vt: VirtualTerminal; snapshots: string[][] }> {
  const vt = new VirtualTerminal(width);
  const bus = new EventBus();
  const stop = attachProgress(bus, 'tty', { isTTY: true, columns: width, rows: 24, write: (t: string) => vt.write(t) });
  const snapshots: string[][] = [];
  for (const e of events) {
    bus.emit(e);
    await new Promise((r) => setTimeout(r, 120));
    snapshots.push(vt.text());
  }
  stop();
  return { vt, snapshots };
}

const TITLE =
  'TTY progress fits 80 columns, leaves no stale rows, drops finished tables, ' + 'shows index builds and post-data';
const IDX = `public.${'very_long_index_name_'.repeat(4)}idx`;
const WARNING = 'a warning that is long enough to wrap in an eighty column terminal, which is fine for lines that stay';

test(TITLE, async () => {
  const events: FerryEvent[] = [
    { type: 'phase-start', phase: 'data' },
    { type: 'table-start', table: LONG, units: 1, estRows: 60_000, estBytes: 6_000_000 },
    { type: 'table-start', table: 'public.small', units: 1, estRows: 40_000, estBytes: 4_000_000 },
    progress(
      [
        { table: LONG, rows: 30_000, estRows: 60_000 },
        { table: 'public.small', rows: 10_000, estRows: 40_000 },
      ],
      40_000,
    ),
    { type: 'table-done', table: 'public.small', rows: 40_000, bytes: 4_000_000, durationMs: 1500, skippedUnits: 0 },
    { type: 'index-start', table: 'public.small', name: IDX },
    progress(
      [
        { table: LONG, rows: 50_000, estRows: 60_000 },
        { table: 'public.small', rows: 40_000, estRows: 40_000 },
      ],
      90_000,
    ),
    { type: 'log', level: 'warn', message: WARNING },
    { type: 'index-done', table: 'public.small', name: IDX, durationMs: 900 },
    { type: 'table-done', table: LONG, rows: 60_000, bytes: 6_000_000, durationMs: 3000, skippedUnits: 1 },
    { type: 'phase-end', phase: 'data', durationMs: 3100, ok: true },
    { type: 'phase-start', phase: 'post-data' },
    { type: 'object', action: 'created', kind: 'foreign key', name: 'public.small.small_fk', section: 'late' },
    { type: 'object', action: 'created', kind: 'trigger', name: 'public.small.audit', section: 'late' },
  ];
  const { vt, snapshots } = await render(events);
  const live = (s: string[]) => s.filter((l) => /[█░]|building index|post-data:/.test(l));
  // every row fits: nothing wraps, long warnings are broken at spaces
  for (const s of snapshots) for (const l of s) assert.ok([...l].length < 80, `too wide: ${l}`);
  assert.equal(vt.wraps, 0, 'no row wraps');
  const all = vt.text();
  assert.ok(
    all.some((l) => /^warning: a warning that is long enough/.test(l)),
    all.join('\n'),
  );
  assert.ok(
    all.some((l) => /^ {4}\S.*fine for lines that stay$/.test(l)),
    all.join('\n'),
  );
  // no stale rows: each snapshot has at most one total line and each table at most once
  for (const s of snapshots) assert.ok(s.filter((l) => / of ~100,000/.test(l)).length <= 1, s.join('\n'));
  const afterSmallDone = snapshots[4];
  const smallBar = live(afterSmallDone).some((l) => /public\.small/.test(l) && /[█░]/.test(l));
  assert.ok(!smallBar, `finished table dropped:\n${afterSmallDone.join('\n')}`);
  assert.ok(
    live(snapshots[5]).some((l) => /building index public\.very_long.*…/.test(l)),
    snapshots[5].join('\n'),
  );
  assert.ok(!snapshots[8].some((l) => /building index/.test(l)), 'finished index build dropped');
  const postData = /post-data: 2 objects created; last: trigger public\.small\.audit/;
  assert.ok(
    snapshots[13].some((l) => postData.test(l)),
    snapshots[13].join('\n'),
  );
  // the end: no live rows left behind, the permanent lines in order
  const final = vt.text().filter(Boolean);
  assert.deepEqual(live(final), []);
  assert.ok(
    final.some((l) => /✔ public\.small: 40,000 rows, 3\.8 MB in 1\.5s/.test(l)),
    final.join('\n'),
  );
  assert.ok(
    final.some((l) => /1 unit already done/.test(l) || /…$/.test(l)),
    final.join('\n'),
  );
});

test('plain mode (not a TTY) writes only permanent lines', async () => {
  const lines: string[] = [];
  const bus = new EventBus();
  const stop = attachProgress(bus, 'plain', { isTTY: false, write: (t: string) => lines.push(t) });
  bus.emit(progress([{ table: 'public.t', rows: 5, estRows: 10 }], 5));
  bus.emit({ type: 'table-done', table: 'public.t', rows: 1, bytes: 10, durationMs: 5, skippedUnits: 0 });
  stop();
  assert.deepEqual(lines, ['  ✔ public.t: 1 row, 10 B in 0.0s\n']);
});

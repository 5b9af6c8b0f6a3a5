// StateDir.writeJson writes the document in pieces (the report of 20,000 tables is 8 MB of text):
// the same text as JSON.stringify(doc, null, 2) with a final newline, passwords scrubbed, without
// holding the whole text (and its copies) at once.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redactor } from '../../src/core/redact.js';
import { StateDir } from '../../src/state/state-dir.js';

const base = mkdtempSync(join(tmpdir(), 'pgferry-state-json-'));
after(() => rmSync(base, { recursive: true, force: true }));

test('writeJson: the text of JSON.stringify(doc, null, 2), passwords scrubbed in every piece', () => {
  const redactor = new Redactor();
  redactor.add('s3cret-pw');
  const st = new StateDir(base, 'doc', redactor);
  const doc = {
    task: 'x',
    source: { uri: 'postgresql://app:s3cret-pw@db/src', nested: [1, [2, [3]], {}, []] },
    empty: [],
    none: null,
    gone: undefined,
    fn: () => 1,
    at: new Date('2026-01-02T03:04:05Z'),
    tables: Array.from({ length: 3000 }, (_, i) => ({
      table: `public."t ${i}" — ✓`,
      rows: i,
      skipped: undefined,
      note: i % 1000 === 0 ? 'password s3cret-pw in a message' : null,
      list: i % 2 ? [] : [i, { deep: [i] }],
    })),
    holes: [undefined, () => 0, 'x'],
    verification: { ok: true, tables: [{ key: 'a' }, { key: 'b' }] },
  };
  st.writeJson('report.json', doc);
  const text = readFileSync(join(base, 'doc', 'report.json'), 'utf8');
  const want = `${JSON.stringify({ version: 1, ...doc }, null, 2)}\n`.replaceAll('s3cret-pw', '********');
  assert.ok(!text.includes('s3cret-pw'));
  assert.equal(text, want);
  assert.deepEqual(JSON.parse(text).tables.length, 3000);
});

test('writeJson: an empty document', () => {
  const st = new StateDir(base, 'empty');
  st.writeJson('e.json', {});
  assert.equal(readFileSync(join(base, 'empty', 'e.json'), 'utf8'), `${JSON.stringify({ version: 1 }, null, 2)}\n`);
});

test('writeJson: an 8 MB report is written without holding its whole text and copies at once', () => {
  const stateDir = fileURLToPath(new URL('../../src/state/state-dir.ts', import.meta.url));
  // 20,000 tables' entries, one dash outside Latin-1: V8 keeps such a text at two bytes a character
  const script = `
    import { StateDir } from ${JSON.stringify(stateDir)};
    const doc = { note: 'a — b', tables: Array.from({ length: 20000 }, (_, i) => ({
      table: 'public.t' + i, rows: 50, bytes: 2976, durationMs: 196, rowsPerSec: 255, bytesPerSec: 15184,
      skippedUnits: 0, units: 1, unitsDone: 1, status: 'done', format: 'binary', indexes: ['public.t' + i + '_n'],
      startedAt: '2026-12-07T09:24:42.181Z', endedAt: '2026-12-07T09:24:47.734Z', verify: { source: 50, target: 50, ok: true } })) };
    globalThis.gc(); globalThis.gc();
    const before = process.memoryUsage().rss;
    new StateDir(${JSON.stringify(base)}, 'big').writeJson('report.json', doc);
    console.log((process.resourceUsage().maxRSS * 1024 - before) / 1048576);`;
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  assert.equal(r.status, 0, r.stderr);
  const grewMB = Number(r.stdout.trim().split('\n').pop());
  const size = readFileSync(join(base, 'big', 'report.json')).length;
  assert.ok(size > 8e6, `report of ${size} bytes`);
  // whole (the two-byte text, its copy with the newline, the UTF-8 bytes) it grew about 70 MB, in pieces about 30
  assert.ok(grewMB < 45, `peak RSS grew ${grewMB.toFixed(1)} MB writing a ${(size / 1e6).toFixed(1)} MB report`);
});

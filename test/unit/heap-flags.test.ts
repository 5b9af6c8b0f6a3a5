// The memory flags a run sets: after keepHeapSmall(), parsing thousands of statements with the SQL
// parser (WebAssembly) leaves its baseline code resident only, not the optimised second compilation
// (about 40 MB of RSS more). Measured in a child process of its own: resident memory, not time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const heap = fileURLToPath(new URL('../../src/core/heap.ts', import.meta.url));

/** Runs `script` (an ES module) in a fresh process and returns the last number it printed. */
function lastNumber(script: string): number {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  assert.equal(r.status, 0, r.stderr);
  return Number(r.stdout.trim().split('\n').pop());
}

/** RSS growth (MB) of a fresh process parsing 3,000 CREATE TABLE blocks, with or without the flags. */
function parseGrowthMB(tuned: boolean): number {
  const script = `
    import { keepHeapSmall } from ${JSON.stringify(heap)};
    if (${tuned}) keepHeapSmall();
    const { loadModule, parseSync } = await import('libpg-query');
    await loadModule();
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 3000; i++)
      parseSync('CREATE TABLE public.t' + i + ' (id integer NOT NULL, n integer NOT NULL, v text);\\nALTER TABLE public.t' + i + ' OWNER TO app;');
    await new Promise((r) => setTimeout(r, 300)); // background compilation jobs finish
    console.log((process.memoryUsage().rss - before) / 1048576);`;
  return lastNumber(script);
}

test('keepHeapSmall: the SQL parser keeps its baseline code only (no optimised WebAssembly code resident)', () => {
  const tuned = parseGrowthMB(true);
  const untuned = parseGrowthMB(false);
  assert.ok(tuned < 20, `RSS grew ${tuned.toFixed(1)} MB parsing 3,000 statements with the memory flags`);
  // the comparison shows what the flag is for (and that this measurement sees it)
  assert.ok(untuned > tuned + 15, `without the flags ${untuned.toFixed(1)} MB, with them ${tuned.toFixed(1)} MB`);
});

/** The young generation's size (MB) after a burst of short-lived allocations, with or without the flags. */
function youngGenerationMB(tuned: boolean): number {
  const script = `
    import v8 from 'node:v8';
    import { keepHeapSmall } from ${JSON.stringify(heap)};
    if (${tuned}) keepHeapSmall();
    let keep = [];
    for (let i = 0; i < 2e6; i++) {
      keep.push({ i, s: 'x' + i });
      if (keep.length > 50000) keep = [];
    }
    const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    console.log(young.space_size / 1048576);`;
  return lastNumber(script);
}

test('keepHeapSmall: the young generation stays at its initial size under a fast allocation rate', () => {
  const tuned = youngGenerationMB(true);
  const untuned = youngGenerationMB(false);
  assert.ok(tuned <= 4, `young generation ${tuned} MB with the memory flags`);
  assert.ok(untuned > tuned, `without the flags ${untuned} MB, with them ${tuned} MB`);
});

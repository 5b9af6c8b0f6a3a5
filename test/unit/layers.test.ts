// The source tree is layered: cli/server/worker → engine → stages → state → core/pg (dev may import anything).
// Every relative import in src/ is checked against that direction; exceptions are listed with a reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Layers below each layer (what it may import besides itself). */
const BELOW: Record<string, string[]> = {
  cli: ['engine', 'stages', 'state', 'core', 'pg'],
  server: ['engine', 'stages', 'state', 'core', 'pg'],
  worker: ['engine', 'stages', 'state', 'core', 'pg'],
  engine: ['stages', 'state', 'core', 'pg'],
  stages: ['stages', 'state', 'core', 'pg'], // another stage: its types.ts only (see violation)
  state: ['core', 'pg'],
  core: ['core', 'pg'],
  pg: ['core', 'pg'],
};

/** Imports against the rules that stay, by importing layer and imported file. */
const EXCEPTIONS: { from: string; to: string; why: string }[] = [
  { from: 'cli', to: 'src/dev/demo/sample.ts', why: '`pgferry demo` generates the sample database' },
  { from: 'cli', to: 'src/dev/embedded/cluster.ts', why: '`pgferry demo` starts throwaway clusters' },
  { from: 'cli', to: 'src/server/app.ts', why: '`pgferry serve` starts the HTTP API, the other adapter' },
  { from: 'cli', to: 'src/worker/worker.ts', why: '`pgferry worker` runs the worker adapter' },
  ...['precheck', 'verify'].map((s) => ({
    from: `stages/${s}`,
    to: 'src/stages/schema/catalog/sql/common.ts',
    why: 'catalog SQL fragments (user namespaces, checkpoint schema hidden) shared by every catalog reader',
  })),
  ...['catalog/introspect.ts', 'ddl/generate.ts', 'ddl/closure.ts', 'split.ts', 'skip.ts', 'acl-noop.ts'].map((f) => ({
    from: 'stages/precheck',
    to: `src/stages/schema/${f}`,
    why: 'precheck plans the schema stage as a dry run to find what would fail',
  })),
  ...['catalog/introspect.ts', 'ddl/closure.ts'].map((f) => ({
    from: 'stages/verify',
    to: `src/stages/schema/${f}`,
    why: 'verify counts objects with the same catalog reading and selection closure as the schema stage',
  })),
  {
    from: 'stages/data',
    to: 'src/stages/schema/catalog/facts.ts',
    why: 'the copy list and sequences derive from the catalog facts of the one catalog read',
  },
  {
    from: 'stages/verify',
    to: 'src/stages/data/plan/tables.ts',
    why: 'verify compares the tables the data stage copies',
  },
  {
    from: 'stages/verify',
    to: 'src/stages/data/snapshot-source.ts',
    why: 'verify reads the source in one exported snapshot, as the copy does',
  },
  {
    from: 'stages/cdc',
    to: 'src/stages/data/snapshot-source.ts',
    why: "an incremental task's slot snapshot is a snapshot source the copy reads",
  },
];

function walk(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((n) => {
    const p = posix.join(dir, n);
    return statSync(join(ROOT, p)).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** "cli", "engine", "stages/<name>", "state", "core", "pg" or "dev" for a file under src/. */
function layerOf(file: string): string {
  const [, top, stage] = file.split('/');
  return top === 'stages' ? `stages/${stage}` : top;
}

function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]+)\1/g;
  const resolve = (spec: string) => posix.normalize(posix.join(posix.dirname(file), spec)).replace(/\.js$/, '.ts');
  return [...text.matchAll(re)].map((m) => resolve(m[2]));
}

/** Why `from` may not import `to`, or undefined when it may. */
export function violation(from: string, to: string): string | undefined {
  const a = layerOf(from);
  const b = layerOf(to);
  if (a === b || a === 'dev') return undefined;
  if (EXCEPTIONS.some((e) => e.from === a && e.to === to)) return undefined;
  if (b === 'cli') return `${from} imports cli/ (${to}): nothing imports the command line`;
  const top = a.startsWith('stages/') ? 'stages' : a;
  const target = b.startsWith('stages/') ? 'stages' : b;
  if (!(BELOW[top] ?? []).includes(target)) return `${from} (${a}) imports ${to} (${b}): imports point down only`;
  if (top === 'stages' && target === 'stages' && posix.basename(to) !== 'types.ts') {
    return `${from} (${a}) imports ${to}, an internal of ${b}: only a stage's types.ts is shared`;
  }
  return undefined;
}

test('every file under src/ sits in a known layer', () => {
  const known = new Set(['cli', 'server', 'worker', 'engine', 'stages', 'state', 'core', 'pg', 'dev']);
  const stray = walk('src').filter((f) => f.split('/').length < 3 || !known.has(f.split('/')[1]));
  assert.deepEqual(stray, []);
});

test('imports in src/ point down the layers', () => {
  const files = walk('src');
  assert.ok(files.length > 100, `only ${files.length} files found under src/`);
  const bad = files.flatMap((f) =>
    importsOf(f)
      .map((t) => violation(f, t))
      .filter((v) => v !== undefined),
  );
  assert.deepEqual(bad, []);
});

test('every listed exception is still used', () => {
  const used = new Set(walk('src').flatMap((f) => importsOf(f).map((t) => `${layerOf(f)} ${t}`)));
  const stale = EXCEPTIONS.filter((e) => !used.has(`${e.from} ${e.to}`)).map((e) => `${e.from} → ${e.to}`);
  assert.deepEqual(stale, []);
});

test('the checker rejects imports that point up or across', () => {
  assert.match(violation('src/core/config.ts', 'src/engine/runner.ts') ?? '', /point down/);
  assert.match(violation('src/pg/connect.ts', 'src/state/checkpoint.ts') ?? '', /point down/);
  assert.match(violation('src/state/eventlog.ts', 'src/stages/report/index.ts') ?? '', /point down/);
  assert.match(violation('src/stages/data/copy/engine.ts', 'src/engine/runner.ts') ?? '', /point down/);
  assert.match(violation('src/engine/runner.ts', 'src/cli/exit.ts') ?? '', /nothing imports the command line/);
  const across = violation('src/stages/report/index.ts', 'src/stages/verify/data.ts');
  assert.match(across ?? '', /internal of stages\/verify/);
  assert.match(violation('src/engine/runner.ts', 'src/dev/embedded/cluster.ts') ?? '', /point down/);
  assert.equal(violation('src/stages/report/index.ts', 'src/stages/verify/types.ts'), undefined);
  assert.equal(violation('src/dev/bench/main.ts', 'src/cli/main.ts'), undefined);
});

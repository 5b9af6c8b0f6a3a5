// `npm install` must not rewrite package-lock.json: the lock's root entry matches package.json,
// every direct dependency is locked at a version its range accepts, and the install-time
// "prepare" script only compiles (tsc, then esbuild for the web console). PGFERRY_TEST_NPM_INSTALL=1 also runs a real `npm install` in a
// copy of the repository and compares the lock byte for byte (needs the registry or its cache).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type Deps = Record<string, string>;
interface Pkg {
  dependencies: Deps;
  devDependencies: Deps;
  scripts: Deps;
}
interface LockEntry {
  name?: string;
  version: string;
  dependencies?: Deps;
  devDependencies?: Deps;
}
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as Pkg;
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, LockEntry> };

/** Whether `version` satisfies `range` for the forms package.json uses: exact, ^x.y.z, ~x.y.z. */
function satisfies(version: string, range: string): boolean {
  const m = /^([~^]?)(\d+)\.(\d+)\.(\d+)(-.+)?$/.exec(range);
  const v = /^(\d+)\.(\d+)\.(\d+)(-.+)?$/.exec(version);
  if (!m || !v) return false;
  const [want, have] = [m.slice(2, 5).map(Number), v.slice(1, 4).map(Number)];
  if (m[1] === '') return version === range.slice(m[1].length);
  const cmp = have[0] - want[0] || have[1] - want[1] || have[2] - want[2];
  if (cmp < 0) return false;
  if (m[1] === '^') return want[0] > 0 ? have[0] === want[0] : have[1] === want[1];
  return have[0] === want[0] && have[1] === want[1];
}

test('package-lock.json agrees with package.json', () => {
  const root = lock.packages[''];
  assert.deepEqual(root.dependencies, pkg.dependencies);
  assert.deepEqual(root.devDependencies, pkg.devDependencies);
  for (const [name, range] of Object.entries({ ...pkg.dependencies, ...pkg.devDependencies })) {
    const entry = lock.packages[`node_modules/${name}`];
    assert.ok(entry, `${name} is locked`);
    const alias = /^npm:(@?[^@]+)@(.+)$/.exec(range);
    if (alias) {
      assert.equal(entry.name, alias[1], `${name} aliases ${alias[1]}`);
      assert.ok(satisfies(entry.version, alias[2]), `${name}: ${entry.version} for ${alias[2]}`);
    } else assert.ok(satisfies(entry.version, range), `${name}: locked ${entry.version}, package.json wants ${range}`);
  }
});

test('the install-time scripts only compile (and bundle the web console and the command line, locally)', () => {
  assert.equal(
    pkg.scripts.prepare,
    'tsc -p tsconfig.json && node scripts/build-console.mjs && node scripts/build-cli.mjs',
  );
  assert.equal(pkg.scripts.build, pkg.scripts.prepare);
  for (const s of ['preinstall', 'install', 'postinstall']) assert.equal(pkg.scripts[s], undefined, s);
});

const realInstall = { skip: process.env.PGFERRY_TEST_NPM_INSTALL !== '1' };

test('npm install in a copy of the repository leaves package-lock.json as it is', realInstall, () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgferry-npm-'));
  try {
    execFileSync('sh', ['-c', `git archive HEAD | tar -x -C ${JSON.stringify(dir)}`]);
    const before = readFileSync(join(dir, 'package-lock.json'), 'utf8');
    const args = ['install', '--prefer-offline', '--no-audit', '--no-fund'];
    const r = spawnSync('npm', args, { cwd: dir, encoding: 'utf8', timeout: 600_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(join(dir, 'package-lock.json'), 'utf8'), before);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

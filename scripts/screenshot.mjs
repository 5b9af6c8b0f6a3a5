#!/usr/bin/env node
// Makes the README's picture of the console's task page (docs/console-task.png, 1280×800): runs the
// console's browser test, which drives a real task through the wizard to done and saves the task
// page there when $PGFERRY_README_SHOT names a file. Usage: node scripts/screenshot.mjs [file.png]
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

const file = resolve(process.argv[2] ?? 'docs/console-task.png');
mkdirSync(dirname(file), { recursive: true });
const r = spawnSync(process.execPath, ['scripts/run-tests.mjs', 'test/console/console.test.ts'], {
  stdio: 'inherit',
  env: { ...process.env, PGFERRY_README_SHOT: file },
});
if (r.status !== 0) process.exit(r.status ?? 1);
console.log(`${file}: ${(statSync(file).size / 1024).toFixed(0)} kB`);

#!/usr/bin/env node
// Runs the compiled CLI (npm install builds it into dist/).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  console.error('pgferry: dist/ is missing; run `npm install` (or `npm run build`) in the pgferry directory first');
  process.exit(2);
}
const { main: run } = await import(main.href);
await run(process.argv);

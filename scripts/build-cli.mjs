#!/usr/bin/env node
// Bundles the command line into dist/pgferry.mjs (bin/pgferry.js runs it): pgferry and its packages
// in one ES module, which starts a command in a third of the time dist/'s modules take to load
// (see src/dev/bundle.ts). Run by `npm run build` and `npm install` (prepare), after tsc.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { bundleOptions } from '../dist/dev/bundle.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
await build({
  ...bundleOptions(join(root, 'src', 'cli', 'main.ts'), join(root, 'dist', 'pgferry.mjs')),
  legalComments: 'linked',
  logLevel: 'warning',
});
console.log(`command line bundled into ${join(root, 'dist', 'pgferry.mjs')}`);

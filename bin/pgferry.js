#!/usr/bin/env node
// Runs the compiled CLI (npm install builds it into dist/).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
// Connection strings on the command line may hold passwords: show only the command in ps.
process.title = [
  'pgferry',
  ...process.argv
    .slice(2)
    .filter((a) => /^[a-z]+$/.test(a))
    .slice(0, 1),
].join(' ');
// pg asks, as it loads, whether it runs in a Cloudflare Worker: without the global `navigator` that
// Node 21+ defines, by building a fetch Response, which loads Node 20's fetch (~18 ms of every start)
globalThis.navigator ??= { userAgent: `Node.js/${process.versions.node.split('.')[0]}` };
// the bundled command line (scripts/build-cli.mjs), else dist/'s modules
const bundled = new URL('../dist/pgferry.mjs', import.meta.url);
const main = existsSync(fileURLToPath(bundled)) ? bundled : new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  console.error('pgferry: dist/ is missing; run `npm install` (or `npm run build`) in the pgferry directory first');
  process.exit(2);
}
// A closed pipe (pgferry … | head) is not an error.
for (const s of [process.stdout, process.stderr])
  s.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
const { main: run } = await import(main.href);
await run(process.argv);
// The command is over: a connection left open by a failed step must not keep the process alive.
process.exit(process.exitCode ?? 0);

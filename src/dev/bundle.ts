/**
 * How the command line is bundled (scripts/build-cli.mjs) and, the same way, the benchmark's
 * runner (src/dev/bench/tools.ts): one ES module with pgferry and its packages inlined. Loading
 * the ~600 modules of dist/ one by one took 340–430 ms before a command started on the 2-core
 * machine (load ~4); the bundle loads in 120–150 ms.
 *
 * Left outside: packages that load files beside their own (libpg-query's WebAssembly), optional
 * native or platform packages, the job system only distributed tasks load (pg-boss), and tools.
 */
const BUNDLE_EXTERNAL = ['libpg-query', 'pg-native', 'pg-cloudflare', 'pg-boss', 'esbuild', 'playwright-core'];

/** CommonJS packages inlined into an ES module still call require(): give them one. */
const BUNDLE_BANNER =
  "import { createRequire as __pgferryRequire } from 'node:module'; const require = __pgferryRequire(import.meta.url);";

/** esbuild's options for one such bundle of `entry` into `outfile`. */
export function bundleOptions(entry: string, outfile: string) {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node' as const,
    format: 'esm' as const,
    target: 'node20',
    external: BUNDLE_EXTERNAL,
    banner: { js: BUNDLE_BANNER },
  };
}

/**
 * The memory of a pgferry process kept close to what it holds live. Called once at the start of a
 * command-line run, before anything is compiled.
 *
 * - The JavaScript heap: by default V8 lets the heap grow to several times what is live before it
 *   collects (the factor rises with the allocation rate), and a migration of many tables allocates
 *   quickly: at 6,000 tables the peak RSS was 326 MB for about 75 MB of live objects. Optimising for
 *   size keeps the heap's growth factor small at a modest CPU cost (garbage is collected more often).
 * - The young generation: set at run time, optimising for size leaves it free to grow to 16 MB (as
 *   when it is passed on the command line, where it would stay at 1 MB), and at 20,000 tables the
 *   catalog read and the precheck allocate fast enough to grow it: it stays at its initial size. At
 *   20,000 tables this took the peak RSS from 215 to 190 MB, for about 3 s more CPU over a 2-minute run.
 * - The SQL parser (libpg-query, WebAssembly): V8 compiles its hot functions a second time with its
 *   optimising compiler, and that code and the compiler's memory stayed resident, about 40 MB of RSS
 *   once a few thousand statements were parsed (at 20,000 tables the schema phase splits every
 *   statement). The baseline code alone parses as fast at pgferry's statement sizes (60,000
 *   statements in about 1.1 s either way on the 2-core bench machine), for 8 MB.
 * - ArrayBuffers swept on the main thread: a copy relays every byte through a Buffer, and V8 frees
 *   their backing stores when it sweeps. Freed on background threads, that cost about 1.1 CPU-s more
 *   for the 1.6 GB mixed benchmark (2.3 → 1.2 s of user time, the system time unchanged), CPU the
 *   servers beside pgferry could use: on the 2-core bench machine the run took about 0.4 s less.
 *   Only the ArrayBuffers: with all sweeping on the main thread the peak RSS at 20,000 tables rose
 *   from 191 to 200 MB.
 */
import v8 from 'node:v8';

/** The V8 flags a run sets. */
const MEMORY_FLAGS = [
  '--optimize-for-size',
  '--semi-space-growth-factor=1',
  '--liftoff-only',
  '--no-concurrent-array-buffer-sweeping',
];

let tuned = false;

export function keepHeapSmall(): void {
  if (tuned) return;
  tuned = true;
  for (const flag of MEMORY_FLAGS) {
    try {
      v8.setFlagsFromString(flag);
    } catch {
      // a runtime that refuses flag changes keeps its defaults
    }
  }
}

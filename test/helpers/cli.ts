// Runs the pgferry CLI from source (for tests that need a real process to kill).
import { main } from '../../src/cli/main.js';

await main(process.argv);
// as bin/pgferry.js: the command is over, whatever handles are left open
process.exit(process.exitCode ?? 0);

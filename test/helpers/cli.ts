// Runs the pgferry CLI from source (for tests that need a real process to kill).
import { main } from '../../src/cli/main.js';

await main(process.argv);

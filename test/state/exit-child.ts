// Child of eventlog.test.ts: emits events into a state dir and exits at once, without closing the log.
import { openEventLog } from '../../src/state/eventlog.js';
import { EventBus } from '../../src/core/events.js';
import { StateDir } from '../../src/state/state-dir.js';

const [root, task, n] = process.argv.slice(2);
const bus = new EventBus();
openEventLog(new StateDir(root, task), bus, task);
for (let i = 0; i < Number(n); i++) bus.info(`line ${i}`);
bus.emit({
  type: 'progress',
  rows: 7,
  bytes: 70,
  estRows: 10,
  estBytes: 100,
  rowsPerSec: 1,
  bytesPerSec: 10,
  etaSec: 3,
  active: [],
});
process.exit(130);

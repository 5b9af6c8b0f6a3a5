/**
 * Child process for the crash tests: runs copyData with the options given as JSON in argv[2]
 * and prints every event as one JSON line, then a final {"type":"result",…} line.
 */
import { copyData, type CopyOptions } from '../../src/stages/data/copy/engine.js';
import { resolveConnSpec } from '../../src/pg/connstring.js';
import { EventBus } from '../../src/core/events.js';
import { StateDir } from '../../src/state/state-dir.js';

const args = JSON.parse(process.argv[2]) as Omit<CopyOptions, 'source' | 'target' | 'events' | 'state'> & {
  source: string;
  target: string;
  stateRoot?: string;
};
const events = new EventBus();
events.on((e) => {
  if (e.type !== 'progress') process.stdout.write(JSON.stringify(e) + '\n');
});
const r = await copyData({
  ...args,
  source: resolveConnSpec(args.source),
  target: resolveConnSpec(args.target),
  events,
  state: args.stateRoot ? new StateDir(args.stateRoot, args.taskId) : undefined,
});
process.stdout.write(JSON.stringify({ type: 'result', ...r }) + '\n');

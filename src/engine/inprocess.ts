/**
 * Tasks running in this process, by state dir. The pid file and the target's advisory lock keep
 * other processes out; this keeps a second run of a task in the same process (an application that
 * embeds pgferry) from writing into the state dir of the run already under way.
 */
import { PgferryError } from '../core/errors.js';

const running = new Set<string>();

/** Claim the state dir for this run; the returned function releases it. */
export function holdInProcess(stateDir: string, taskId: string): () => void {
  if (running.has(stateDir)) {
    throw new PgferryError('state', `task "${taskId}" is already running in this process (state dir ${stateDir})`, {
      hint: 'wait for that run to end, or give the second run another task name (--name)',
    });
  }
  running.add(stateDir);
  let held = true;
  return () => {
    if (held) running.delete(stateDir);
    held = false;
  };
}

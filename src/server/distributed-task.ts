/**
 * A task run distributed by the service: its copy units go through the control database `pgferry serve
 * --control` was given, and `pgferry worker`s on any host copy them; the server keeps the snapshot and
 * runs the other phases, copying no unit itself. The control database's password comes from the server's
 * environment (PGPASSWORD, ~/.pgpass), never from the task.
 */
import type { TaskConfig } from '../core/config.js';
import { PgferryError } from '../core/errors.js';
import type { Redactor } from '../core/redact.js';
import { resolveConnSpec } from '../pg/connstring.js';
import type { DistributedCopy } from '../stages/data/distributed/coordinator.js';

/** Why the task cannot run distributed on this server, if it cannot. */
export function distributedRefusal(task: Pick<TaskConfig, 'distributed'>, control?: string) {
  if (task.distributed !== true || control) return undefined;
  return new PgferryError('usage', 'this server has no control database: it cannot run a distributed task', {
    hint: 'start pgferry serve with --control postgresql://user@host/db (a database the workers reach too), or set distributed to false',
  });
}

/** The distributed copy of the task's run, or undefined for a task copied in this process. */
export function distributedCopy(task: TaskConfig, control: string | undefined, redactor: Redactor) {
  const refusal = distributedRefusal(task, control);
  if (refusal) throw refusal;
  if (task.distributed !== true || !control) return undefined;
  const d: DistributedCopy = { control: resolveConnSpec(control, { redactor }), localWorkers: 0 };
  return d;
}

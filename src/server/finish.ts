/**
 * POST /api/tasks/:id/finish: after the switch-over, the task's checkpoints leave the target (the
 * checkpoint schema goes with its last task), refused while a run of the task holds its lock on the
 * target; the answer carries the SQL that removes the migration accounts, for a DBA to run (the
 * service never drops roles itself) — the same text `pgferry finish` prints (stages/finish/accounts.ts).
 */
import type { TaskConfig } from '../core/config.js';
import type { Redactor } from '../core/redact.js';
import { describeHolder, taskLockHolder, tryTaskLock } from '../engine/tasklock.js';
import { withClient } from '../pg/connect.js';
import { describeConn, resolveConnSpec } from '../pg/connstring.js';
import { accountCleanupLines, accountStatements, type AccountPlan, roleInfo } from '../stages/finish/accounts.js';
import { removeTaskCheckpoints, type RemoveResult } from '../state/checkpoint-remove.js';
import { conflict } from './http-error.js';

export interface Finished {
  checkpoints: RemoveResult;
  cleanupSql: string;
}

export async function finishTask(id: string, task: TaskConfig, redactor: Redactor): Promise<Finished> {
  const target = resolveConnSpec(task.target, { redactor });
  const source = resolveConnSpec(task.source, { redactor });
  const plans: AccountPlan[] = [];
  const checkpoints = await withClient(target, { label: 'target', role: 'finish' }, async (c) => {
    if (!(await tryTaskLock(c, id))) {
      const holder = await taskLockHolder(c, id);
      const who = holder ? describeHolder(holder) : 'a session this user cannot see';
      throw conflict(`task "${id}" is still running against the target (${who})`, 'stop that run before finishing');
    }
    const removed = await removeTaskCheckpoints(c, task.stateSchema, [id]);
    plans.push(accountStatements('target', target.user, await roleInfo(c, target.user), undefined));
    return removed;
  });
  const info = await withClient(source, { label: 'source', role: 'finish' }, (c) => roleInfo(c, source.user));
  plans.push(accountStatements('source', source.user, info, undefined));
  const lines = accountCleanupLines(plans, { source: describeConn(source), target: describeConn(target) });
  return { checkpoints, cleanupSql: `${lines.join('\n')}\n` };
}

/**
 * POST /api/tasks/:id/finish: after the switch-over, the task's checkpoints leave the target (the
 * checkpoint schema goes with its last task), refused while a run of the task holds its lock on the
 * target; the answer carries the SQL that removes the migration accounts, for a DBA to run (the
 * service never drops roles itself). `pgferry finish` does the same from the command line.
 */
import type { TaskConfig } from '../core/config.js';
import { quoteIdent } from '../core/ident.js';
import type { Redactor } from '../core/redact.js';
import { describeHolder, taskLockHolder, tryTaskLock } from '../engine/tasklock.js';
import { withClient } from '../pg/connect.js';
import { describeConn, resolveConnSpec, type ConnSpec } from '../pg/connstring.js';
import { removeTaskCheckpoints, type RemoveResult } from '../state/checkpoint-remove.js';
import { conflict } from './http-error.js';

export interface Finished {
  checkpoints: RemoveResult;
  cleanupSql: string;
}

function accountSql(side: 'source' | 'target', spec: ConnSpec): string[] {
  const role = quoteIdent(spec.user);
  const lines = [`-- on the ${side} (${describeConn(spec)}), as a role with CREATEROLE or a superuser:`];
  // on the target the migration account may own the migrated objects: they go to the application's owner first
  if (side === 'target') lines.push(`REASSIGN OWNED BY ${role} TO <app_owner>;`);
  lines.push(`DROP OWNED BY ${role};`, `DROP ROLE ${role};`);
  return lines;
}

export async function finishTask(id: string, task: TaskConfig, redactor: Redactor): Promise<Finished> {
  const target = resolveConnSpec(task.target, { redactor });
  const source = resolveConnSpec(task.source, { redactor });
  const checkpoints = await withClient(target, { label: 'target', role: 'finish' }, async (c) => {
    if (!(await tryTaskLock(c, id))) {
      const holder = await taskLockHolder(c, id);
      const who = holder ? describeHolder(holder) : 'a session this user cannot see';
      throw conflict(`task "${id}" is still running against the target (${who})`, 'stop that run before finishing');
    }
    return removeTaskCheckpoints(c, task.stateSchema, [id]);
  });
  const sql = [
    ...accountSql('target', target),
    '',
    ...accountSql('source', source),
    '-- REASSIGN/DROP OWNED act on the current database only: repeat them in every database where the role owns objects',
  ];
  return { checkpoints, cleanupSql: sql.join('\n') + '\n' };
}

/**
 * Reading a task's checkpoints from its target for `status` and the report. The state dir
 * keeps the target without its password, so the password comes from a given --target, from
 * PGPASSWORD or from ~/.pgpass (as for psql); when the read fails the note says which
 * credentials were tried and how to give the right ones.
 */
import { withClient } from '../../pg/connect.js';
import { describeConn, resolveConnSpec } from '../../pg/connstring.js';
import { errorMessage } from '../../core/errors.js';
import type { Redactor } from '../../core/redact.js';
import { readCheckpoints, type CheckpointTotals } from './checkpoints.js';

export interface CheckpointRead {
  totals: CheckpointTotals | null;
  /** Set when the target could not be read: what was tried, the error, and the fix. */
  error?: string;
  /** The error was a connection failure (exit 3 where a command needs the checkpoints). */
  connect?: boolean;
}

function credentialsUsed(given: boolean, hasPassword: boolean): string {
  if (given) return 'with the --target given';
  return hasPassword
    ? "with the task's target and a password from PGPASSWORD or ~/.pgpass"
    : "with the task's target and no password (none in PGPASSWORD or ~/.pgpass)";
}

const pgpassLine = (s: { host: string; port: number; database: string; user: string }) =>
  `${s.host}:${s.port}:${s.database}:${s.user}:<password>`;

export async function readTaskCheckpoints(
  target: string,
  task: string,
  given: boolean,
  schema?: string,
  redactor?: Redactor,
): Promise<CheckpointRead> {
  let spec: ReturnType<typeof resolveConnSpec>;
  try {
    spec = resolveConnSpec(target, { redactor });
  } catch (e) {
    return { totals: null, error: `cannot read the target's checkpoints: ${errorMessage(e)}` };
  }
  try {
    const totals = await withClient(spec, { label: 'target', role: 'status' }, (c) => readCheckpoints(c, task, schema));
    return { totals };
  } catch (e) {
    const fix = given
      ? 'check the --target connection string'
      : `pass --target with the password, or add a ~/.pgpass line ${pgpassLine(spec)}`;
    const how = credentialsUsed(given, spec.password !== undefined);
    const connect = (e as { kind?: string }).kind === 'connect';
    return { totals: null, connect, error: `${describeConn(spec)} not readable ${how}: ${errorMessage(e)} — ${fix}` };
  }
}

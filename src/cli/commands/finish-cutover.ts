/**
 * `finish` for incremental tasks: stop the apply at the source's current position (it applies
 * what is left, sets the sequences and ends), wait for the run to end, then drop the slot and
 * publication on the source. Writes on the source must have stopped before (the cutover).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { PgferryError } from '../../core/errors.js';
import { withClient } from '../../pg/connect.js';
import type { ConnSpec } from '../../pg/connstring.js';
import { askApplyToStop, currentLsn, dropCapture } from '../../stages/cdc/cutover.js';
import { formatLsn } from '../../stages/cdc/lsn.js';
import { readCaptureStatus, type CaptureStatus } from '../../stages/report/capture-status.js';
import { FileTaskStore } from '../../state/file-store.js';
import { StateDir } from '../../state/state-dir.js';
import { tryTaskLock } from '../../engine/tasklock.js';

export interface CutoverOptions {
  names: string[];
  schema: string;
  stateDir?: string;
  target: ConnSpec;
  source?: ConnSpec;
  log(text: string): void;
}

const POLL_MS = 500;

/** Is a run of the task alive (pid lock here, or its lock on the target)? */
async function running(o: CutoverOptions, name: string): Promise<boolean> {
  if (new StateDir(StateDir.rootFor(o.stateDir), name).runningPid() !== undefined) return true;
  return withClient(o.target, { label: 'target', role: 'finish' }, async (c) => !(await tryTaskLock(c, name)));
}

const readRow = (o: CutoverOptions, name: string) =>
  withClient(o.target, { label: 'target', role: 'finish' }, (c) => readCaptureStatus(c, name, o.schema));

async function stopApply(o: CutoverOptions, name: string, src: pg.Client): Promise<CaptureStatus> {
  const at = await currentLsn(src);
  await withClient(o.target, { label: 'target', role: 'finish' }, (c) => askApplyToStop(c, name, o.schema, at));
  o.log(`task ${name}: the apply stops once it has applied the source up to ${formatLsn(at)}; waiting for it`);
  while (await running(o, name)) await sleep(POLL_MS);
  const row = await readRow(o, name);
  if (row?.state !== 'stopped') {
    throw new PgferryError('state', `task "${name}" ended before its apply reached ${formatLsn(at)}`, {
      hint: 'see `pgferry status` for its error; run the same migrate command again, then finish',
    });
  }
  return row;
}

/** When `pgferry cutover` completed for the task: its slot and publication are gone already. */
async function cutOverAt(o: CutoverOptions, name: string): Promise<string | undefined> {
  const store = new FileTaskStore(StateDir.rootFor(o.stateDir));
  const rec = await store
    .get(name)
    .catch(() => undefined)
    .finally(() => store.close());
  const c = rec?.info.cutover as { state?: string; result?: { targetReadyAt?: string } } | undefined;
  return c?.state === 'done' ? (c.result?.targetReadyAt ?? '?') : undefined;
}

/** Stop and clean up the change capture of every incremental task among `names`. */
export async function cutover(o: CutoverOptions): Promise<void> {
  for (const name of o.names) {
    let row = await readRow(o, name);
    if (!row) continue;
    const at = await cutOverAt(o, name);
    if (at !== undefined) {
      o.log(`task ${name}: cut over at ${at}; its slot and publication were dropped then`);
      continue;
    }
    if (!o.source) {
      throw new PgferryError(
        'usage',
        `task "${name}" is incremental: finish needs its source to drop slot ${row.slot}`,
        {
          hint: `pass --source URL (an account with the REPLICATION attribute)`,
        },
      );
    }
    const src = o.source;
    await withClient(src, { label: 'source', role: 'finish' }, async (c) => {
      if (row!.state !== 'stopped' && (await running(o, name))) row = await stopApply(o, name, c);
      else if (row!.state !== 'stopped') {
        o.log(
          `task ${name}: no run streams its changes; the target holds the source up to ${row!.appliedLsn ?? '?'} ` +
            'and its sequences were not set from the source (run the migrate command again and finish while it runs)',
        );
      }
      const dropped = await dropCapture(c, row!.slot, row!.publication);
      o.log(
        `task ${name}: ${dropped.slot ? 'dropped' : 'no'} slot ${row!.slot}, publication ${row!.publication} dropped`,
      );
    });
  }
}

/**
 * `pgferry finish` of incremental tasks, before their checkpoints go: the change capture ends.
 *  - cut over already (`pgferry cutover`): its slot and publication are gone, nothing to do;
 *  - a run streams the task: the cutover (cutover.ts, the one path) stops its apply at the
 *    source's current position, sets the sequences, compares by hash, checks that no write
 *    arrived and drops slot and publication; then finish waits for the run to end;
 *  - no run streams it (an abandoned task, or one whose apply stopped already): slot and
 *    publication are dropped, saying how far the target got.
 * Writes on the source must have stopped before (without --read-only, as `cutover` says).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { validateTask } from '../core/config.js';
import { PgferryError } from '../core/errors.js';
import { EventBus } from '../core/events.js';
import type { Redactor } from '../core/redact.js';
import { withClient } from '../pg/connect.js';
import { type ConnSpec, resolveConnSpec } from '../pg/connstring.js';
import { dropCapture } from '../stages/cdc/cutover.js';
import { readCaptureStatus } from '../stages/report/capture-status.js';
import { FileTaskStore } from '../state/file-store.js';
import { StateDir } from '../state/state-dir.js';
import type { TaskStore } from '../state/store.js';
import { cutover } from './cutover.js';
import { tryTaskLock } from './tasklock.js';

export interface FinishCaptureOptions {
  names: string[];
  /** The tasks' checkpoint schema on the target. */
  schema: string;
  stateDir?: string;
  /** Where the tasks' records are (default: the state dir). */
  store?: TaskStore;
  /** Connection strings as given to finish. */
  target: string;
  source?: string;
  redactor?: Redactor;
  log(text: string): void;
}

const POLL_MS = 500;

/** Is a run of the task alive (pid lock here, or its lock on the target)? */
async function running(o: FinishCaptureOptions, target: ConnSpec, name: string): Promise<boolean> {
  if (!o.store && new StateDir(StateDir.rootFor(o.stateDir), name).runningPid() !== undefined) return true;
  return withClient(target, { label: 'target', role: 'finish' }, async (c) => !(await tryTaskLock(c, name)));
}

/** The task's record (as its migrate command ran it), in the store or the state dir. */
async function record(o: FinishCaptureOptions, name: string) {
  if (o.store) return o.store.get(name);
  const store = new FileTaskStore(StateDir.rootFor(o.stateDir));
  return store
    .get(name)
    .catch(() => undefined)
    .finally(() => store.close());
}

/** When `pgferry cutover` completed for the task: its slot and publication are gone already. */
function cutOverAt(info: Record<string, unknown> | undefined): string | undefined {
  const c = info?.cutover as { state?: string; result?: { targetReadyAt?: string } } | undefined;
  return c?.state === 'done' ? (c.result?.targetReadyAt ?? '?') : undefined;
}

/** A run streams the task: cut it over, then let the run end. */
async function cutOverRunning(
  o: FinishCaptureOptions,
  name: string,
  source: string,
  target: ConnSpec,
  config: Record<string, unknown>,
): Promise<void> {
  const root = StateDir.rootFor(o.stateDir);
  const task = validateTask({ ...config, name, source, target: o.target, stateDir: root });
  const events = new EventBus();
  events.on((e) => {
    if (e.type === 'log') o.log(`task ${name}: ${e.message}`);
  });
  const r = await cutover(task, { events, store: o.store, redactor: o.redactor });
  while (await running(o, target, name)) await sleep(POLL_MS);
  o.log(`task ${name}: cut over, write downtime ${(r.downtimeMs / 1000).toFixed(2)} s`);
}

/** End the change capture of every incremental task among `names`. */
export async function finishCapture(o: FinishCaptureOptions): Promise<void> {
  const target = resolveConnSpec(o.target, { redactor: o.redactor });
  for (const name of o.names) {
    const row = await withClient(target, { label: 'target', role: 'finish' }, (c) =>
      readCaptureStatus(c, name, o.schema),
    );
    if (!row) continue;
    const rec = await record(o, name);
    const at = cutOverAt(rec?.info);
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
    if (row.state !== 'stopped' && rec && (await running(o, target, name))) {
      await cutOverRunning(o, name, o.source, target, rec.config);
      o.log(`task ${name}: dropped slot ${row.slot}, publication ${row.publication} dropped`);
      continue;
    }
    if (row.state !== 'stopped') {
      o.log(
        `task ${name}: no run streams its changes; the target holds the source up to ${row.appliedLsn ?? '?'} ` +
          'and its sequences were not set from the source (run the migrate command again and finish while it runs)',
      );
    }
    const source = resolveConnSpec(o.source, { redactor: o.redactor });
    const dropped = await withClient(source, { label: 'source', role: 'finish' }, (c) =>
      dropCapture(c, row.slot, row.publication),
    );
    o.log(`task ${name}: ${dropped.slot ? 'dropped' : 'no'} slot ${row.slot}, publication ${row.publication} dropped`);
  }
}

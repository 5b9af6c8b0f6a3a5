/**
 * `pgferry cutover` (and POST /api/tasks/{id}/cutover): switch an incremental task over to its
 * target. Steps, each timed and announced:
 *  1. stop writes — with `readOnly`, pgferry makes the selected source tables refuse writes
 *     (src/stages/cdc/read-only.ts); otherwise the user has stopped them, and step 5 checks;
 *     the moment is recorded in the task store, the source's WAL insert position taken;
 *  2. catch up — the apply (of the running migrate, or here when no run streams) stops once the
 *     target holds everything up to that position; progress lines show the bytes left;
 *  3. sequences set from the source's current values;
 *  4. hash verification of the selected tables (a mismatch stops here, slot and publication kept);
 *  5. no write arrived — nothing committed after the stop position is in the slot;
 *  6. slot and publication dropped, the task marked finished in the task store.
 * The write downtime is from step 1 to the end of step 6. On a failure the read-only is lifted
 * again; a cutover interrupted at any step (even kill -9) is run again and completes, keeping the
 * moment writes first stopped.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import type { TaskConfig } from '../core/config.js';
import { errorMessage, isPgError, PgferryError } from '../core/errors.js';
import type { EventBus } from '../core/events.js';
import { qualify } from '../core/ident.js';
import { fmtBytes } from '../core/size.js';
import { Redactor } from '../core/redact.js';
import { Selection } from '../core/selection.js';
import { connect } from '../pg/connect.js';
import { type ConnSpec, resolveConnSpec, toSafeUri } from '../pg/connstring.js';
import { validateTask } from '../core/config.js';
import { reverseTaskId, setupReverse } from '../stages/cdc/reverse.js';
import { streamChanges } from '../stages/cdc/capture.js';
import { NewPartitionsSeen } from '../stages/cdc/new-partitions.js';
import { cancelStop, currentLsn, dropCapture } from '../stages/cdc/cutover.js';
import { formatLsn, type Lsn } from '../stages/cdc/lsn.js';
import { type CaptureRow, readCapture, requestStop } from '../stages/cdc/lsn-checkpoint.js';
import { pendingWrites } from '../stages/cdc/pending-writes.js';
import { readOnlyTables, setReadOnly, undoCommand, undoReadOnly, undoSql } from '../stages/cdc/read-only.js';
import { syncSequences } from '../stages/cdc/sequences.js';
import type { CopyTable } from '../stages/data/plan/types.js';
import { listCopyTables } from '../stages/data/plan/tables.js';
import { readPublishedTables } from './published-tables.js';
import { listSequences } from '../stages/data/plan/sequences.js';
import { verify, type VerifyReport } from '../stages/verify/index.js';
import { useStateSchema } from '../state/checkpoint.js';
import { FileTaskStore } from '../state/file-store.js';
import { StateDir } from '../state/state-dir.js';
import type { TaskStore } from '../state/store.js';
import { taskIdFor } from './runner.js';
import { describeHolder, tryTaskLock } from './tasklock.js';

export interface CutoverOptions {
  /** pgferry makes the selected source tables refuse writes for the cutover. */
  readOnly?: boolean;
  /** Set up change capture from the target back to the source (the rollback path, task `<task>-reverse`). */
  reverse?: boolean;
  /** Longest wait for the target to catch up (default 600 s). */
  timeoutSec?: number;
  events: EventBus;
  /** Where the task's record is (default: the task's state dir). */
  store?: TaskStore;
  redactor?: Redactor;
  signal?: AbortSignal;
}

export interface CutoverStep {
  step: string;
  durationMs: number;
}

export interface CutoverResult {
  taskId: string;
  /** An earlier cutover of the task completed: nothing was done now. */
  already: boolean;
  steps: CutoverStep[];
  writesStoppedAt: string;
  targetReadyAt: string;
  /** Writes stopped → target ready. */
  downtimeMs: number;
  stopLsn: string;
  sequences: number;
  /** Source relations that still refuse writes (read-only kept after the cutover), and the SQL that lifts it. */
  readOnly: string[];
  undoSql: string[];
  undoCommand: string;
  /** With `reverse`: the task that streams the target's changes back to the source, and how to roll back. */
  reverse?: { taskId: string; rollback: string };
}

/** What the task store keeps of a cutover (info.cutover), so that a rerun continues it. */
interface CutoverRecord {
  state: 'running' | 'failed' | 'done';
  writesStoppedAt?: string;
  stopLsn?: string;
  error?: string;
  result?: CutoverResult;
}

const DEFAULT_TIMEOUT_SEC = 600;
const POLL_MS = 100;
const PROGRESS_EVERY_MS = 2_000;

interface Cut {
  task: TaskConfig;
  taskId: string;
  source: ConnSpec;
  target: ConnSpec;
  sel: Selection;
  src: pg.Client;
  tgt: pg.Client;
  store: TaskStore;
  o: CutoverOptions;
  steps: CutoverStep[];
  /** This task is the reverse of that one (its target is that task's source). */
  reverseOf?: string;
}

async function step<T>(x: Cut, name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  x.o.events.info(`cutover: ${name}…`);
  const r = await fn();
  const durationMs = Date.now() - t0;
  x.steps.push({ step: name, durationMs });
  x.o.events.emit({ type: 'cutover-step', step: name, durationMs });
  return r;
}

async function record(x: Cut, cutover: CutoverRecord, extra: Record<string, unknown> = {}): Promise<void> {
  try {
    if (await x.store.get(x.taskId)) await x.store.update(x.taskId, { info: { cutover, ...extra } });
  } catch (e) {
    x.o.events.warn(`cutover: the task store could not be updated: ${errorMessage(e)}`);
  }
}

async function captureRow(x: Cut): Promise<CaptureRow | undefined> {
  try {
    return await readCapture(x.tgt, x.taskId);
  } catch (e) {
    if (isPgError(e) && (e.code === '42P01' || e.code === '3F000')) return undefined;
    throw e;
  }
}

/** The selected tables that exist on the target (those the apply writes to). */
async function tablesOnTarget(x: Cut, tables: CopyTable[]): Promise<CopyTable[]> {
  const names = tables.map((t) => qualify(t.target.schema, t.target.name));
  const r = await x.tgt.query<{ ok: boolean }>(
    'SELECT to_regclass(n) IS NOT NULL AS ok FROM unnest($1::text[]) WITH ORDINALITY u(n, i) ORDER BY i',
    [names],
  );
  return tables.filter((_, i) => r.rows[i].ok);
}

function timedOut(x: Cut, stop: Lsn, applied: Lsn | null): PgferryError {
  const left = applied === null ? 'unknown' : fmtBytes(applied >= stop ? 0 : Number(stop - applied));
  return new PgferryError(
    'state',
    `task "${x.taskId}": the target did not catch up with the source's position ${formatLsn(stop)} within ` +
      `${x.o.timeoutSec ?? DEFAULT_TIMEOUT_SEC} s (${left} of WAL left)`,
    {
      hint:
        '`pgferry status` shows the apply and its lag; run the cutover again (a longer --timeout if the apply is slow): ' +
        'slot and publication stay in place',
    },
  );
}

/** Step 2: until the target holds every source transaction of the selected tables committed before `stop`. */
async function catchUp(x: Cut, stop: Lsn): Promise<void> {
  const timeoutMs = (x.o.timeoutSec ?? DEFAULT_TIMEOUT_SEC) * 1000;
  const deadline = Date.now() + timeoutMs;
  let lastLine = 0;
  let applied: Lsn | null = null;
  const progress = async () => {
    const row = await captureRow(x);
    applied = row?.appliedLsn ?? null;
    if (Date.now() - lastLine < PROGRESS_EVERY_MS) return;
    lastLine = Date.now();
    const left = applied === null || applied >= stop ? 0 : Number(stop - applied);
    x.o.events.info(
      left > 0
        ? `cutover: catching up, ${fmtBytes(left)} of WAL left before ${formatLsn(stop)}`
        : `cutover: the target holds the source up to ${formatLsn(stop)}; waiting for the apply to stop there`,
    );
  };
  for (;;) {
    if (x.o.signal?.aborted) throw x.o.signal.reason;
    const row = await captureRow(x);
    if (!row) throw new PgferryError('state', `task "${x.taskId}": its change capture row left the target`);
    if (row.state === 'stopped') {
      // The apply ended at a stop position: is anything committed before ours still in the slot?
      const pending = await pendingWrites(x.src, row.slot, row.publication, row.appliedLsn ?? undefined, stop);
      if (!pending || pending.changes === 0) return;
    }
    if (Date.now() > deadline) throw timedOut(x, stop, row.appliedLsn);
    if (await tryTaskLock(x.tgt, x.taskId)) {
      // No run streams the task: apply the rest here (this session holds the task lock meanwhile).
      x.o.events.info('cutover: no pgferry run streams this task: applying the changes left here');
      const published = await readPublishedTables(x.src, x.sel);
      const tables = await tablesOnTarget(x, published.tables);
      const remaining = Math.max(1, deadline - Date.now());
      const signals = [AbortSignal.timeout(remaining), ...(x.o.signal ? [x.o.signal] : [])];
      const ticker = setInterval(() => void progress().catch(() => {}), PROGRESS_EVERY_MS);
      try {
        await streamChanges(
          {
            source: x.source,
            target: x.target,
            taskId: x.taskId,
            tables,
            events: x.o.events,
            signal: AbortSignal.any(signals),
            partitions: published.watch,
          },
          [],
        );
      } catch (e) {
        if (x.o.signal?.aborted) throw e;
        if (Date.now() >= deadline) throw timedOut(x, stop, applied);
        // A partition created on the source meanwhile: apply again with the tables as they are now.
        if (!(e instanceof NewPartitionsSeen)) throw e;
        x.o.events.info(`cutover: ${e.message}`);
      } finally {
        clearInterval(ticker);
      }
      continue;
    }
    await progress();
    await sleep(POLL_MS);
  }
}

function mismatch(x: Cut, report: VerifyReport, row: CaptureRow): PgferryError {
  const tables = report.tables.filter((t) => !t.ok).map((t) => t.key);
  const sequences = report.sequences.filter((s) => !s.ok).map((s) => s.key);
  const what = [
    tables.length ? `table(s) ${tables.join(', ')}` : '',
    sequences.length ? `sequence(s) ${sequences.join(', ')}` : '',
  ]
    .filter(Boolean)
    .join(' and ');
  return new PgferryError(
    'verify',
    `cutover of task "${x.taskId}" stopped: the target differs from the source in ${what}`,
    {
      hint:
        `slot ${row.slot} and publication ${row.publication} stay on the source. See the differing rows with ` +
        '`pgferry verify --mode hash`, correct the target (or stop what writes to it), then run the same cutover command again',
    },
  );
}

function writesArrived(x: Cut, stop: Lsn, tables: string[], txns: number, row: CaptureRow): PgferryError {
  return new PgferryError(
    'state',
    `cutover of task "${x.taskId}" stopped: ${txns} transaction(s) wrote to ${tables.join(', ')} on the source after ` +
      `writes were to stop (${formatLsn(stop)})`,
    {
      hint:
        `the target lacks them; slot ${row.slot} and publication ${row.publication} stay on the source. Stop the ` +
        'applications writing to the source (or pass --read-only), then run the same cutover command again: they are applied then',
    },
  );
}

/** Step 5: nothing committed on the source's selected tables after the stop position. */
async function noLateWrites(x: Cut, stop: Lsn, row: CaptureRow): Promise<void> {
  const late = await pendingWrites(x.src, row.slot, row.publication, stop);
  if (late && late.changes > 0) throw writesArrived(x, stop, late.tables, late.txns, row);
}

function selectedOk(report: VerifyReport): boolean {
  return report.tables.every((t) => t.ok) && report.sequences.every((s) => s.ok);
}

async function run(x: Cut, earlier: CutoverRecord | undefined, row: CaptureRow): Promise<CutoverResult> {
  const { src, tgt, o } = x;
  const { stop, writesStoppedAt } = await step(x, 'stop writes', async () => {
    if (x.reverseOf) {
      // Rolling back: the old source (this task's target) takes the writes again, the apply's first.
      const lifted = await undoReadOnly(tgt, x.reverseOf);
      if (lifted.length)
        o.events.info(`cutover: rolling back: ${lifted.length} table(s) of the source accept writes again`);
    }
    if (o.readOnly) {
      const tables = await listCopyTables(src, x.sel);
      const guarded = await setReadOnly(src, x.taskId, tables);
      o.events.info(
        `cutover: the source refuses writes to ${guarded.length} table(s) now; undo: ${undoCommand(x.taskId)}`,
      );
    } else {
      o.events.info('cutover: writes to the source must have stopped; pgferry checks that none arrives meanwhile');
    }
    // A cutover interrupted earlier keeps the moment writes first stopped.
    const at =
      earlier?.state === 'running' && earlier.writesStoppedAt ? earlier.writesStoppedAt : new Date().toISOString();
    const lsn = await currentLsn(src);
    await requestStop(tgt, x.taskId, lsn);
    await record(x, { state: 'running', writesStoppedAt: at, stopLsn: formatLsn(lsn) });
    return { stop: lsn, writesStoppedAt: at };
  });
  await step(x, 'catch up', () => catchUp(x, stop));
  const sequences = await step(x, 'sync sequences', async () =>
    syncSequences(src, tgt, await listSequences(src, x.sel)),
  );
  await step(x, 'verify (hash)', async () => {
    const report = await verify(x.task, { mode: 'hash', events: o.events, signal: o.signal, redactor: o.redactor });
    if (!selectedOk(report)) {
      // Writes still arriving on the source explain a difference better than the difference does.
      await noLateWrites(x, stop, row);
      throw mismatch(x, report, row);
    }
    const objects = report.objects.filter((k) => !k.ok).map((k) => k.kind);
    const ours = (await readOnlyTables(src, x.taskId)).length
      ? " (pgferry's read-only triggers count on the source)"
      : '';
    if (objects.length) o.events.warn(`cutover: object counts differ for ${objects.join(', ')}${ours}`);
  });
  await step(x, 'check no write arrived', () => noLateWrites(x, stop, row));
  const reverse = o.reverse ? await step(x, 'set up reverse capture', () => reverseCapture(x)) : undefined;
  await step(x, 'drop slot and publication', () => dropCapture(src, row.slot, row.publication));
  const ready = new Date();
  const readOnly = await readOnlyTables(src, x.taskId);
  const result: CutoverResult = {
    taskId: x.taskId,
    already: false,
    steps: x.steps,
    writesStoppedAt,
    targetReadyAt: ready.toISOString(),
    downtimeMs: ready.getTime() - Date.parse(writesStoppedAt),
    stopLsn: formatLsn(stop),
    sequences,
    readOnly,
    undoSql: readOnly.length ? await undoSql(src, x.taskId) : [],
    undoCommand: undoCommand(x.taskId),
    ...(reverse ? { reverse } : {}),
  };
  await record(
    x,
    { state: 'done', writesStoppedAt, stopLsn: result.stopLsn, result },
    { finished: result.targetReadyAt },
  );
  return result;
}

/** The task the other way round: the old target is its source; the checkpoint schema stays out. */
function reversedTask(x: Cut): TaskConfig {
  const t = x.task;
  return validateTask({
    ...t,
    name: reverseTaskId(x.taskId),
    source: t.target,
    target: t.source,
    excludeSchemas: [...t.excludeSchemas, t.stateSchema ?? 'pgferry'],
  });
}

/** --reverse works on tasks that keep names and columns as they are. */
function assertReversible(task: TaskConfig): void {
  const mapped = Object.keys(task.mapSchemas).length > 0;
  const changed = Object.entries(task.tables).filter(([, o]) => Object.keys(o).some((k) => k !== 'where'));
  if (!mapped && !changed.length) return;
  const what = mapped ? 'maps schemas' : `renames or subsets table(s) ${changed.map(([k]) => k).join(', ')}`;
  throw new PgferryError('usage', `--reverse cannot stream back a task that ${what}`, {
    hint: 'cut over without --reverse (a rollback then means a new migration from the target)',
  });
}

/** The 'set up reverse capture' step: publication and slot on the target, the reverse task's row on the source. */
async function reverseCapture(x: Cut): Promise<{ taskId: string; rollback: string }> {
  const rev = reversedTask(x);
  const id = reverseTaskId(x.taskId);
  useStateSchema(id, rev.stateSchema);
  const tables = await listCopyTables(x.tgt, new Selection(rev));
  const { identityFull } = await setupReverse(x.tgt, x.target, x.src, x.taskId, tables, toSafeUri(x.target));
  if (identityFull.length) {
    x.o.events.info(
      `cutover: ${identityFull.join(', ')} on the target got REPLICA IDENTITY FULL (no key), as on the source`,
    );
  }
  const config = { ...rev, source: toSafeUri(x.target), target: toSafeUri(x.source) };
  const info = { reverseOf: x.taskId, source: config.source, target: config.target };
  if (await x.store.get(id)) await x.store.update(id, { config, info });
  else await x.store.create(id, { status: 'created', config, info });
  const rollback = `pgferry cutover ${id} -s TARGET -t SOURCE`;
  x.o.events.info(`cutover: the target's changes are captured for the source from now on; roll back with: ${rollback}`);
  return { taskId: id, rollback };
}

/**
 * One cutover of a task at a time: a session-level advisory lock on the target for its duration
 * (a second one would lift the first one's read-only when it fails).
 */
async function takeCutoverLock(tgt: pg.Client, taskId: string): Promise<void> {
  const keys = `hashtext('pgferry cutover'), hashtext($1)`;
  const r = await tgt.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${keys}) AS ok`, [taskId]);
  if (r.rows[0].ok) return;
  const h = await tgt.query<{ pid: number; app: string | null; usename: string | null }>(
    `SELECT l.pid, a.application_name AS app, a.usename::text AS usename
       FROM pg_catalog.pg_locks l LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.pid <> pg_backend_pid()
        AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
        AND (l.classid, l.objid, l.objsubid) = (hashtext('pgferry cutover')::oid, hashtext($1)::oid, 2)
      LIMIT 1`,
    [taskId],
  );
  const row = h.rows[0];
  const who = row
    ? describeHolder({ pid: row.pid, applicationName: row.app, client: null, user: row.usename, since: null })
    : 'a session this user cannot see';
  throw new PgferryError('state', `a cutover of task "${taskId}" runs already (${who})`, {
    hint: 'wait for it to end (or end that session), then run the cutover again if it did not complete',
  });
}

/** The task as `cutover` needs it: its id, endpoints and sessions. */
export async function cutover(task: TaskConfig, o: CutoverOptions): Promise<CutoverResult> {
  const redactor = o.redactor ?? new Redactor();
  const source = resolveConnSpec(task.source, { redactor });
  const target = resolveConnSpec(task.target, { redactor });
  const taskId = taskIdFor(task, source, target);
  useStateSchema(taskId, task.stateSchema);
  const ownStore = o.store === undefined;
  const store = o.store ?? new FileTaskStore(StateDir.rootFor(task.stateDir));
  const src = await connect(source, { label: 'source', role: 'cutover' });
  const tgt = await connect(target, { label: 'target', role: 'cutover' }).catch(async (e) => {
    await src.end();
    throw e;
  });
  const x: Cut = {
    task,
    taskId,
    source,
    target,
    sel: new Selection(task),
    src,
    tgt,
    store,
    o: { ...o, redactor },
    steps: [],
  };
  try {
    await takeCutoverLock(tgt, taskId);
    const rec = await store.get(taskId).catch(() => undefined);
    const earlier = rec?.info.cutover as CutoverRecord | undefined;
    if (typeof rec?.info.reverseOf === 'string') x.reverseOf = rec.info.reverseOf;
    if (o.reverse) assertReversible(task);
    if (earlier?.state === 'done' && earlier.result) {
      o.events.info(`cutover: task ${taskId} was cut over already (target ready at ${earlier.result.targetReadyAt})`);
      o.events.emit({ type: 'cutover-end', ok: true, downtimeMs: earlier.result.downtimeMs });
      return { ...earlier.result, already: true };
    }
    const row = await captureRow(x);
    if (!row) {
      throw new PgferryError('usage', `task "${taskId}" has no change capture on the target`, {
        hint:
          'cutover is for incremental tasks: run `pgferry migrate --incremental` first (a task copied once needs ' +
          'no cutover: `pgferry finish` removes what it left behind)',
      });
    }
    if (row.state === 'copy') {
      throw new PgferryError('state', `task "${taskId}" is still copying: there is nothing to cut over to yet`, {
        hint: 'let the migrate command run until `pgferry status` shows "incremental: stream", then cut over',
      });
    }
    try {
      const result = await run(x, earlier, row);
      o.events.emit({ type: 'cutover-end', ok: true, downtimeMs: result.downtimeMs });
      return result;
    } catch (e) {
      await failed(x, e);
      throw e;
    }
  } finally {
    await src.end().catch(() => {});
    await tgt.end().catch(() => {});
    if (ownStore) await store.close().catch(() => {});
  }
}

/** A cutover that failed: writes come back on the source, the store says so. */
async function failed(x: Cut, e: unknown): Promise<void> {
  const message = errorMessage(e, x.o.redactor);
  try {
    const lifted = await undoReadOnly(x.src, x.taskId);
    if (lifted.length) x.o.events.warn(`cutover failed: the source accepts writes to ${lifted.length} table(s) again`);
  } catch (u) {
    x.o.events.warn(
      `cutover failed and the read-only could not be lifted: ${errorMessage(u, x.o.redactor)}; run ${undoCommand(x.taskId)}`,
    );
  }
  await cancelStop(x.tgt, x.taskId).catch(() => {});
  await record(x, { state: 'failed', error: message });
  x.o.events.emit({ type: 'cutover-end', ok: false, downtimeMs: null, error: message });
}

/** `--undo-read-only`: the source accepts writes to the task's tables again. */
export async function liftReadOnly(
  task: TaskConfig,
  o: { redactor?: Redactor },
): Promise<{ taskId: string; tables: string[] }> {
  const redactor = o.redactor ?? new Redactor();
  const source = resolveConnSpec(task.source, { redactor });
  const target = resolveConnSpec(task.target, { redactor });
  const taskId = taskIdFor(task, source, target);
  const src = await connect(source, { label: 'source', role: 'cutover' });
  try {
    return { taskId, tables: await undoReadOnly(src, taskId) };
  } finally {
    await src.end().catch(() => {});
  }
}

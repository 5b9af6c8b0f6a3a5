/**
 * The migrate state machine, in the DTS order:
 *   precheck → schema (pre-data) → data (+ each table's indexes as soon as its rows land)
 *   → post-data (foreign keys, triggers, matview refresh) → verify → report.
 * Every step is resumable: schema objects and copy units are checkpointed on the target in
 * the same transaction as the work, so rerunning the same task continues where it stopped.
 * Nothing is written to the target before the precheck passes.
 * The runner's own sessions (one per side) reconnect after a lost connection and every phase
 * retries transient failures; the target session holds the task's advisory lock throughout.
 * The task's record and lease live in a task store (task-record.ts; default: the state dir).
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type pg from 'pg';
import { connect, ConnectError } from '../pg/connect.js';
import { describeConn, resolveConnSpec, type ConnSpec } from '../pg/connstring.js';
import { controlsFrom, copyData, type CopyResult } from '../stages/data/copy/engine.js';
import { copyLargeObjects } from '../stages/data/copy/largeobjects.js';
import { validateAdded } from '../stages/data/copy/validation.js';
import { withRetry } from '../pg/retry.js';
import { errorMessage } from '../core/errors.js';
import type { GeneratedSchema } from '../stages/schema/ddl/generate.js';
import type { SourceCatalog } from '../stages/schema/catalog/model.js';
import type { Statement } from '../core/statement.js';
import type { CopyTable, QualifiedName } from '../stages/data/plan/types.js';
import { typedPrivilegeError } from '../core/privilege-fix.js';
import { copyTablesOf } from '../stages/data/plan/tables.js';
import { copySequencesOf } from '../stages/data/plan/sequences.js';
import { runPrecheck, type PrecheckReport } from '../stages/precheck/index.js';
import { applyStatements, readSourceSchema } from '../stages/schema/apply.js';
import { verify, type VerifyReport } from '../stages/verify/index.js';
import { EARLY_VERIFY_MAX_TABLES, EarlySource } from '../stages/verify/early.js';
import type { Report } from '../stages/report/index.js';
import { finishReport, type FinishReport } from '../stages/report/finish-report.js';
import { Redactor } from '../core/redact.js';
import {
  checkpointSchemaExists,
  doneObjects,
  ensureCheckpoints,
  setTaskPhase,
  stateSchemaFor,
  useStateSchema,
} from '../state/checkpoint.js';
import { precheckFailure } from '../stages/report/precheck-failure.js';
import type { TaskConfig } from '../core/config.js';
import type { EventBus, Phase } from '../core/events.js';
import { MainSession } from './mainsession.js';
import { copiesLargeObjects, Selection } from '../core/selection.js';
import type { Controls } from '../stages/data/copy/controls.js';
import type { DistributedCopy } from '../stages/data/distributed/coordinator.js';
import { StateDir } from '../state/state-dir.js';
import type { TaskStore } from '../state/store.js';
import { openState } from './run-state.js';
import { takeTaskLock } from './tasklock.js';
import { truncateOnce } from './truncate.js';
import { keepExistingEarly } from './existing-early.js';
import type { SnapshotSource } from '../stages/data/snapshot-source.js';
import { earlierSnapshotOf, openRunSnapshot, readInSnapshot } from './run-snapshot.js';
import { cdcPhase, recordCaptureStart } from './cdc-phase.js';
import { copiedBefore, leaveOutLatePartitions, leaveOutLateUnread } from './late-partitions.js';
import { openCaptureFirst } from './capture-first.js';
import { discardCapture, type OpenedCapture } from '../stages/cdc/capture.js';
import { claimInProcess } from './inprocess-claim.js';

export interface MigrateOptions {
  events: EventBus;
  /** Skip the precheck (only for tests of later phases and for `--skip-precheck`). */
  skipPrecheck?: boolean;
  signal?: AbortSignal;
  /** Learns this task's passwords and scrubs them from its state dir, report and errors (default: a new one). */
  redactor?: Redactor;
  /** Where the task's record and lease live (default: the state dir, a FileTaskStore over its root). */
  store?: TaskStore;
  /** The lease's time to live: a run that dies gives the task up this long after (default 30 s). */
  leaseTtlMs?: number;
  /**
   * Live limits the copy follows (rows/s, bytes/s, jobs, pause), changed while the task runs
   * (default: new ones from the task). The command line feeds them from control.json.
   */
  controls?: Controls;
  /** Copy units through a control database, by `pgferry worker`s on any host (and `localWorkers` of this process). */
  distributed?: DistributedCopy;
}

export interface MigrateResult {
  taskId: string;
  state: StateDir;
  precheck?: PrecheckReport;
  copy?: CopyResult;
  verify?: VerifyReport;
  warnings: string[];
  notMigrated: { kind: string; name: string; reason: string }[];
  objectsByKind: Record<string, number>;
  durationMs: number;
  /** The report written to the state dir (report.json, report.md), and its summary for a terminal. */
  report?: Report;
  summary?: string;
}

/** A stable task id: the name given, or one derived from the two endpoints. */
export function taskIdFor(task: TaskConfig, source: ConnSpec, target: ConnSpec): string {
  if (task.name) return task.name;
  const h = createHash('sha256')
    .update(`${source.host}:${source.port}/${source.database}\u0000${target.host}:${target.port}/${target.database}`)
    .digest('hex')
    .slice(0, 8);
  const clean = (s: string) => s.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 24);
  return `${clean(source.database)}-to-${clean(target.database)}-${h}`;
}

/** The id `migrate` gives the task, for adapters that set up around a run (control.json). */
export function resolveTaskId(task: TaskConfig, redactor: Redactor = new Redactor()): string {
  return taskIdFor(task, resolveConnSpec(task.source, { redactor }), resolveConnSpec(task.target, { redactor }));
}

interface Run {
  task: TaskConfig;
  o: MigrateOptions;
  taskId: string;
  source: ConnSpec;
  target: ConnSpec;
  state: StateDir;
  sel: Selection;
  src: MainSession;
  tgt: MainSession;
  result: MigrateResult;
  safeSource: string;
  setStatus: (phase: Phase, status?: string) => Promise<void>;
  writeTask: (fields: { status?: string; phase?: string; error?: string }) => Promise<void>;
  redactor: Redactor;
  controls: Controls;
  /** The source snapshot of the run (catalog read, precheck, schema and data phases), opened before the precheck. */
  snapshot?: SnapshotSource;
  /** An incremental copy still to do: the publication and slot whose snapshot is `snapshot`. */
  capture?: OpenedCapture;
  /** An incremental task's rerun after its copy: the tables that copy did (late partitions are left out). */
  copied?: Set<string>;
  /** Count verification's source side, read while the data is copied. */
  earlyVerify?: EarlySource;
}

/** The phase, recorded in the local state dir and in the target's checkpoints. */
async function enterPhase(r: Run, phase: Phase): Promise<void> {
  await r.tgt.run(`record phase ${phase}`, (c) => setTaskPhase(c, r.taskId, phase));
  await r.setStatus(phase);
}

/** Take the task lock before anything else; an unreachable target is left to the precheck to explain. */
async function lockEarly(r: Run): Promise<void> {
  try {
    await r.tgt.client();
  } catch (e) {
    if (!(e instanceof ConnectError) || r.o.skipPrecheck) throw e;
  }
}

async function precheckPhase(r: Run, read?: SourceSchema): Promise<PrecheckReport> {
  const { task, o, taskId } = r;
  return o.events.phase('precheck', async () => {
    const report = await runPrecheck(task, {
      taskId,
      skip: task.skipChecks,
      redactor: r.redactor,
      catalog: read?.model,
      ddl: read?.statements,
      heldSlot: r.capture?.names.slot,
      leaveOut: r.sel.leftOutKeys(),
    });
    for (const item of report.items) {
      if (item.result === 'warning') o.events.warn(`precheck ${item.id}: ${item.message}`);
    }
    if (!report.ok) throw precheckFailure(report);
    return report;
  });
}

/**
 * Target sessions besides the runner's that create independent tables in the schema phase: up to 3,
 * and never more than the data phase will hold (copy jobs + index jobs), which the precheck counted.
 */
const schemaSideSessions = (task: TaskConfig) => Math.min(3, task.jobs + (task.indexJobs ?? task.jobs) - 1);

/** How already existing objects are treated by the DDL stage: truncate keeps them as skip does. */
const applyMode = (task: TaskConfig) => (task.ifExists === 'truncate' ? 'skip' : task.ifExists);

/** The one catalog read of the run (model with its facts) and the DDL generated from it. */
type SourceSchema = GeneratedSchema & { model: SourceCatalog };

/**
 * What the schema phase read in the snapshot: the DDL, and the tables and sequences whose data moves —
 * not the catalog model (the largest part of a read, ~5 kB a table), which the later phases never need.
 */
interface SourceRead {
  schema: GeneratedSchema;
  tables: CopyTable[];
  sequences: { source: QualifiedName; target: QualifiedName }[];
}

/**
 * The catalog, read once in the snapshot the rows are copied in, and the DDL generated from it; on
 * an incremental task's rerun after its copy, the partitions that copy did not have are left out first.
 */
const readSchema = (r: Run, snapshot: SnapshotSource) =>
  readInSnapshot(r.src, snapshot, 'read the source schema', (c) =>
    readSourceSchema(c, r.sel, (model) => {
      if (r.copied) leaveOutLatePartitions(model.facts, { ...r, copied: r.copied });
    }),
  );

/** The copy list and the sequences derived from the read, and its DDL; the catalog model is dropped here. */
function derive(s: SourceSchema, sel: Selection): SourceRead {
  const { model, ...schema } = s;
  return { schema, tables: copyTablesOf(model.facts, sel), sequences: copySequencesOf(model.facts, sel) };
}

/** `held.first`: the read made before the precheck, handed over (and let go) so that its model is freed early. */
async function schemaPhase(r: Run, snapshot: SnapshotSource, held: { first?: SourceSchema }): Promise<SourceRead> {
  const { events } = r.o;
  return events.phase('schema', async () => {
    const read = derive(held.first ?? (await readSchema(r, snapshot)), r.sel);
    held.first = undefined;
    const generated = read.schema;
    const { resumed } = await r.tgt.run('create checkpoints', (c) => ensureCheckpoints(c, r.taskId, r.safeSource));
    if (resumed) events.info(`resuming task ${r.taskId}: objects and units done by the earlier run are skipped`);
    await enterPhase(r, 'schema');
    for (const w of generated.warnings) events.warn(w);
    r.result.notMigrated = generated.notMigrated;
    const pre = generated.statements.filter((s) => s.section === 'pre');
    // more target sessions create independent tables alongside the runner's own
    const openSide = () => connect(r.target, { label: 'target', role: 'schema' });
    const opts = {
      taskId: r.taskId,
      events,
      ifExists: applyMode(r.task),
      openSide,
      sideSessions: schemaSideSessions(r.task),
    };
    await r.tgt.run('create the schema', (c) => applyStatements(c, pre, opts));
    return read;
  });
}

/** Retry options for work the runner hands to other modules (they reopen their own sessions). */
const retrying = (r: Run, what: string) => ({
  what,
  retryTimeSec: r.task.copy.retryTimeSec,
  events: r.o.events,
  signal: r.o.signal,
});

/** ifExists skip/truncate keep the target tables: empty them (truncate) and keep their indexes. */
async function keepTargetTables(r: Run, tables: CopyTable[], early: Statement[]): Promise<void> {
  const mode = r.task.ifExists;
  if (mode === 'truncate') {
    const emptied = await r.tgt.run('empty existing tables', (c) => truncateOnce(c, r.taskId, tables));
    if (emptied.length) r.o.events.info(`emptied ${emptied.length} existing target table(s) (ifExists: truncate)`);
  }
  if (mode === 'truncate' || mode === 'skip') {
    await r.tgt.run('look for existing indexes', (c) => keepExistingEarly(c, r.taskId, early, r.o.events, mode));
  }
}

/** pg_largeobject_metadata is readable by every role (pg_largeobject is not): copy only when there is something. */
async function hasLargeObjects(c: pg.Client): Promise<boolean> {
  const r = await c.query<{ any: boolean }>('SELECT EXISTS (SELECT 1 FROM pg_largeobject_metadata) AS any');
  return r.rows[0].any;
}

async function largeObjects(r: Run): Promise<number> {
  const { task, o } = r;
  if (!copiesLargeObjects(task) || !(await r.src.run('look for large objects', hasLargeObjects))) return 0;
  if (o.signal?.aborted) throw o.signal.reason;
  const lo = await withRetry(retrying(r, 'copy large objects'), () =>
    copyLargeObjects({
      source: r.source,
      target: r.target,
      taskId: r.taskId,
      events: o.events,
      noOwner: task.noOwner,
      ownerTo: task.ownerTo,
      noAcl: task.noAcl,
    }),
  );
  return lo.objects + lo.skipped;
}

async function dataPhase(r: Run, read: SourceRead, snapshot: SnapshotSource): Promise<CopyResult> {
  const { task, o } = r;
  const { schema, sequences } = read;
  const tables = read.tables.filter((t) => !schema.tablesNotCreated.includes(t.key));
  return o.events.phase('data', async () => {
    await enterPhase(r, 'data');
    const early = schema.statements.filter((s) => s.section === 'early');
    await keepTargetTables(r, tables, early);
    // An incremental copy reads the slot's snapshot, the run's one (see capture-first.ts): recorded now.
    if (r.capture) await recordCaptureStart(r, tables, r.capture);
    // Live limits: the run's controls (MigrateOptions.controls; the command line feeds them from control.json
    // or the task store).
    const controls = r.controls;
    // The engine retries its own sessions; a failure outside them re-enters it, and it resumes from its checkpoints.
    const copied = await withRetry(retrying(r, 'copy data'), () => {
      // counts of the target taken by an attempt that failed are read again at the end of this one
      r.earlyVerify?.resetTargets();
      return copyData({
        source: r.source,
        target: r.target,
        taskId: r.taskId,
        tables,
        sequences,
        early,
        // foreign keys between copied tables, added once both are complete; not when the target may
        // already have them (ifExists skip/truncate) or when a statement drops first (drop)
        foreignKeys: task.ifExists === 'error' ? schema.statements.filter((s) => s.section === 'late' && s.after) : [],
        snapshot,
        jobs: task.jobs,
        indexJobs: task.indexJobs ?? Math.max(1, Math.ceil(task.jobs / 2)),
        copy: task.copy,
        events: o.events,
        controls,
        signal: o.signal,
        noFreeze: Boolean(process.env.PGFERRY_NO_FREEZE),
        distributed: o.distributed,
        // count verification reads the target side while the last builds run (stages/verify/early-target.ts)
        onWindDown: () => r.earlyVerify?.readTargetSide(),
      });
    });
    const lo = await largeObjects(r);
    if (lo > 0) copied.largeObjects = lo;
    return copied;
  });
}

async function postDataPhase(r: Run, schema: GeneratedSchema): Promise<void> {
  // foreign keys the data stage added are done
  const added = new Set(r.result.copy?.lateDone ?? []);
  await r.o.events.phase('post-data', async () => {
    await enterPhase(r, 'post-data');
    const late = schema.statements.filter((s) => s.section === 'late' && !added.has(s.key));
    const opts = { taskId: r.taskId, events: r.o.events, ifExists: applyMode(r.task) };
    await r.tgt.run('create foreign keys, triggers and other post-data objects', async (c) =>
      applyStatements(c, validateAdded(late, await doneObjects(c, r.taskId)), opts),
    );
  });
}

async function verifyPhase(r: Run): Promise<VerifyReport> {
  const { task, o } = r;
  return o.events.phase('verify', async () => {
    await enterPhase(r, 'verify');
    const opts = {
      mode: task.verify as 'count' | 'hash',
      events: o.events,
      signal: o.signal,
      redactor: r.redactor,
      early: r.earlyVerify,
    };
    const report = await withRetry(retrying(r, 'verify'), () => verify(task, opts));
    if (!report.ok) o.events.warn('verification found differences between source and target (see the report)');
    return report;
  });
}

/**
 * Open the run's snapshot and read the catalog in it: an incremental copy still to do reads its
 * replication slot's snapshot (created now, after its publication), any other run an exported
 * one (the earlier run's when it still exists).
 */
async function openAndRead(r: Run, beforePrecheck = false): Promise<SourceSchema> {
  // One try before the precheck (which explains a failure); retried after it.
  const retry = { ...retrying(r, 'open the source snapshot'), ...(beforePrecheck ? { retryTimeSec: 0 } : {}) };
  const capture = await withRetry({ ...retry, what: 'create the replication slot' }, () =>
    openCaptureFirst(r, beforePrecheck),
  );
  if (capture) {
    r.capture = capture.opened;
    r.snapshot = capture.opened.snapshot;
    return capture.schema;
  }
  r.snapshot = await openRunSnapshot(r.source, await earlierSnapshotOf(r.tgt, r.taskId), retry);
  return readSchema(r, r.snapshot);
}

/**
 * The snapshot and the catalog read in it, before the precheck: one try, no retries. When the
 * source cannot be read at once the precheck reads for itself and explains why (and a run it
 * lets through opens the snapshot afterwards).
 */
async function readFirst(r: Run): Promise<SourceSchema | undefined> {
  try {
    return await openAndRead(r, true);
  } catch {
    return undefined;
  }
}

/** A run the precheck stops leaves no replication slot (nor a publication it created) behind. */
async function dropCapture(r: Run): Promise<void> {
  const opened = r.capture;
  r.capture = undefined;
  if (opened) await discardCapture(r.source, opened).catch(() => {});
}

async function runPhases(r: Run): Promise<void> {
  const { o, task, result } = r;
  await lockEarly(r);
  if (task.incremental) r.copied = await copiedBefore(r);
  let read: SourceRead | undefined;
  try {
    // The precheck judges the catalog the run migrates: the snapshot is opened and the catalog read
    // in it first, and the precheck, the schema and the copy list all use that one read. Opening a
    // snapshot writes nothing to the target; an incremental copy's publication and slot, created on
    // the source first (capture-first.ts), are dropped when the precheck blocks the start.
    const held = { first: o.skipPrecheck ? undefined : await readFirst(r) };
    if (!o.skipPrecheck) {
      if (!held.first && r.copied) await leaveOutLateUnread({ ...r, copied: r.copied });
      result.precheck = await precheckPhase(r, held.first).catch(async (e: unknown) => {
        await dropCapture(r);
        throw e;
      });
    }
    await r.tgt.client();
    if (!r.snapshot) held.first = await openAndRead(r);
    const snapshot = r.snapshot!;
    read = await schemaPhase(r, snapshot, held); // takes held.first: the catalog model goes before the DDL is applied
    // a one-time copy's count verification reads its source side meanwhile (stages/verify/early.ts)
    if (task.verify === 'count' && !task.incremental && read.tables.length <= EARLY_VERIFY_MAX_TABLES)
      r.earlyVerify = new EarlySource(task, r.redactor, read.tables);
    result.copy = await dataPhase(r, read, snapshot);
  } finally {
    // Held no longer than the copy: an open snapshot keeps the source's vacuum from removing old rows.
    r.snapshot?.close();
    r.snapshot = undefined;
  }
  if (o.signal?.aborted) throw o.signal.reason;
  const { tablesNotCreated } = read.schema;
  await postDataPhase(r, read.schema);
  // The statements and the copy list are done with (about 2 kB a table): not held through change capture and verify.
  read = undefined;
  if (task.incremental) await cdcPhase(r, tablesNotCreated);
  if (task.verify !== 'none') result.verify = await verifyPhase(r);
  const status = result.verify && !result.verify.ok ? 'mismatch' : 'done';
  await r.tgt.run('record the end', (c) => setTaskPhase(c, r.taskId, 'done', status));
}

/** The runner's own sessions; the target one holds the task lock and takes it again after a reconnect. */
function mainSessions(
  task: TaskConfig,
  o: MigrateOptions,
  source: ConnSpec,
  target: ConnSpec,
  taskId: string,
  onLost: (e: unknown) => void,
) {
  const common = { retryTimeSec: task.copy.retryTimeSec, events: o.events, signal: o.signal };
  const src = new MainSession(source, { ...common, label: 'source', role: 'main' });
  // host and pid in application_name: a second run refused by the lock can say who holds it
  const role = `main ${hostname().slice(0, 24)} pid ${process.pid}`;
  const tgt = new MainSession(target, {
    ...common,
    label: 'target',
    role,
    setup: (c) => takeTaskLock(c, taskId),
    keep: true,
    onLost,
  });
  return { src, tgt };
}

/** Counts created objects and collects warnings into the result; returns the function that stops it. */
function tally(events: EventBus, result: MigrateResult): () => void {
  return events.on((e) => {
    if (e.type === 'object' && e.action === 'created') {
      result.objectsByKind[e.kind] = (result.objectsByKind[e.kind] ?? 0) + 1;
    }
    if (e.type === 'log' && e.level === 'warn') result.warnings.push(e.message);
  });
}

/**
 * Run a task. Many tasks may run at once in one process: each has its own sessions, state dir,
 * event bus (`o.events`) and redactor (`o.redactor`, else a new one); nothing is process-wide.
 * The report (report.json, report.md) is written on success and on failure.
 */
export async function migrate(task: TaskConfig, o: MigrateOptions): Promise<MigrateResult> {
  const t0 = Date.now();
  const events = o.events;
  const redactor = o.redactor ?? new Redactor();
  const source = resolveConnSpec(task.source, { redactor });
  const target = resolveConnSpec(task.target, { redactor });
  const taskId = taskIdFor(task, source, target);
  useStateSchema(taskId, task.stateSchema);
  const sel = new Selection(task);
  const release = claimInProcess(o.store ?? resolve(StateDir.rootFor(task.stateDir)), taskId);
  const st = await openState({ task, taskId, source, target }, o, redactor).catch((e: unknown) => {
    release();
    throw e;
  });
  const report = finishReport(events, {
    stateDir: task.stateDir,
    target: task.target,
    stateSchema: task.stateSchema,
    redactor,
  });
  const setStatus = (phase: Phase, status = 'running') => st.writeTask({ status, phase });
  const controls = o.controls ?? controlsFrom({ copy: task.copy, jobs: task.jobs });
  const result: MigrateResult = {
    taskId,
    state: st.state,
    warnings: [],
    notMigrated: [],
    objectsByKind: {},
    durationMs: 0,
  };
  const stopTally = tally(events, result);
  // The run stops at once when its target session is lost and cannot be reopened with the task lock,
  // or when it loses its lease in the task store.
  const lost = new AbortController();
  const signal = AbortSignal.any([...(o.signal ? [o.signal] : []), lost.signal, st.lost]);
  const { src, tgt } = mainSessions(task, { ...o, signal }, source, target, taskId, (e) => lost.abort(e));
  const r: Run = {
    task,
    o: { ...o, signal },
    taskId,
    source,
    target,
    state: st.state,
    sel,
    src,
    tgt,
    result,
    safeSource: st.safeSource,
    setStatus,
    writeTask: st.writeTask,
    redactor,
    controls,
  };
  let ended = false;
  try {
    await setStatus('precheck');
    const ends = { source: describeConn(source), target: describeConn(target) };
    events.emit({ type: 'task-start', task: taskId, ...ends, resumed: st.resumed });
    await runPhases(r);
    await setStatus('report', 'done');
    result.durationMs = Date.now() - t0;
    ended = true;
    events.emit({ type: 'task-end', ok: !result.verify || result.verify.ok, durationMs: result.durationMs });
    result.summary = await report.complete(result);
    result.report = report.report;
    return result;
  } catch (e) {
    result.durationMs = Date.now() - t0;
    const err = typedPrivilegeError(e, target.user);
    await failRun(r, err, ended, report);
    throw redactor.scrubError(err);
  } finally {
    stopTally();
    await st.eventLog.close().catch(() => {
      /* the run's outcome stands; events are best effort */
    });
    r.earlyVerify?.close();
    await src.end();
    await tgt.end();
    await st.close().finally(release);
  }
}

/** A failed run: the task-end event, task.json, the target's checkpoints and the report all say so. */
async function failRun(r: Run, e: unknown, ended: boolean, report: FinishReport): Promise<void> {
  const message = errorMessage(e, r.redactor);
  if (!ended) r.o.events.emit({ type: 'task-end', ok: false, durationMs: r.result.durationMs, error: message });
  try {
    await r.writeTask({ status: 'failed', error: message });
  } catch {
    /* keep the original error */
  }
  await recordFailure(r);
  try {
    const summary = await report.fail(message, r.state);
    if (summary !== undefined) {
      r.result.summary = summary;
      r.result.report = report.report;
    }
  } catch {
    /* keep the original error */
  }
}

/** Best effort: mark the task failed in the target's checkpoints (only when this run holds the lock). */
async function recordFailure(r: Run): Promise<void> {
  try {
    const c = await r.tgt.client();
    if (await checkpointSchemaExists(c, stateSchemaFor(r.taskId))) await setTaskPhase(c, r.taskId, 'failed', 'failed');
  } catch {
    /* the target may be gone, or held by another run */
  }
}

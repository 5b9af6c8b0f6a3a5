/**
 * The migrate state machine, in the DTS order:
 *   precheck → schema (pre-data) → data (+ each table's indexes as soon as its rows land)
 *   → post-data (foreign keys, triggers, matview refresh) → verify → report.
 * Every step is resumable: schema objects and copy units are checkpointed on the target in
 * the same transaction as the work, so rerunning the same task continues where it stopped.
 * Nothing is written to the target before the precheck passes.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { connect } from '../conn/connect.js';
import { describeConn, resolveConnSpec, toSafeUri, type ConnSpec } from '../conn/connstring.js';
import { copyData, type CopyResult } from '../copy/engine.js';
import { copyLargeObjects } from '../copy/largeobjects.js';
import { PgferryError } from '../errors.js';
import { listCopyTables } from '../plan/tables.js';
import { listSequences } from '../plan/sequences.js';
import { runPrecheck, type PrecheckReport } from '../precheck/index.js';
import { applyStatements, readSourceSchema } from '../schema/apply.js';
import { verify, type VerifyReport } from '../verify/index.js';
import { precheckFailure } from '../report/precheck-failure.js';
import { ensureCheckpoints, setTaskPhase } from './checkpoint.js';
import type { TaskConfig } from './config.js';
import type { EventBus, Phase } from './events.js';
import { copiesLargeObjects, Selection } from './selection.js';
import { StateDir } from './state.js';

export interface MigrateOptions {
  events: EventBus;
  /** Skip the precheck (only for tests of later phases and for `--skip-precheck`). */
  skipPrecheck?: boolean;
  signal?: AbortSignal;
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
}

/** A stable task id: the name given, or one derived from the two endpoints. */
export function taskIdFor(task: TaskConfig, source: ConnSpec, target: ConnSpec): string {
  if (task.name) return task.name;
  const h = createHash('sha256').update(`${source.host}:${source.port}/${source.database}\u0000${target.host}:${target.port}/${target.database}`).digest('hex').slice(0, 8);
  const clean = (s: string) => s.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 24);
  return `${clean(source.database)}-to-${clean(target.database)}-${h}`;
}

export async function migrate(task: TaskConfig, o: MigrateOptions): Promise<MigrateResult> {
  const t0 = Date.now();
  const events = o.events;
  const source = resolveConnSpec(task.source);
  const target = resolveConnSpec(task.target);
  const taskId = taskIdFor(task, source, target);
  const state = new StateDir(StateDir.rootFor(task.stateDir), taskId);
  const unlock = state.lock();
  const stopEvents = events.on((e) => state.appendEvent(e));
  // An earlier run of this task left its state here: this run continues it.
  const earlier = state.readJson<{ status?: string }>('task.json');
  const info = { name: taskId, source: toSafeUri(source), target: toSafeUri(target), startedAt: new Date().toISOString() };
  const config = { ...task, source: info.source, target: info.target };
  const writeTask = (fields: Record<string, unknown>) => state.writeJson('task.json', { ...info, ...fields, config });
  const setStatus = (phase: Phase, status = 'running') => writeTask({ status, phase });
  setStatus('precheck');

  const result: MigrateResult = { taskId, state, warnings: [], notMigrated: [], objectsByKind: {}, durationMs: 0 };
  const countObjects = events.on((e) => {
    if (e.type === 'object' && e.action === 'created') result.objectsByKind[e.kind] = (result.objectsByKind[e.kind] ?? 0) + 1;
    if (e.type === 'log' && e.level === 'warn') result.warnings.push(e.message);
  });
  let src: pg.Client | undefined;
  let tgt: pg.Client | undefined;
  /** The phase, recorded in the local state dir and in the target's checkpoints. */
  const enterPhase = async (phase: Phase) => {
    await setTaskPhase(tgt!, taskId, phase);
    setStatus(phase);
  };
  try {
    events.emit({ type: 'task-start', task: taskId, source: describeConn(source), target: describeConn(target), resumed: earlier !== undefined });
    if (!o.skipPrecheck) {
      result.precheck = await events.phase('precheck', async () => {
        const report = await runPrecheck(task, { taskId, skip: task.skipChecks });
        for (const item of report.items) {
          if (item.result === 'warning') events.warn(`precheck ${item.id}: ${item.message}`);
        }
        if (!report.ok) throw precheckFailure(report);
        return report;
      });
    }
    const sel = new Selection(task);
    src = await connect(source, { label: 'source', role: 'main' });
    tgt = await connect(target, { label: 'target', role: 'main' });

    const schema = await events.phase('schema', async () => {
      const generated = await readSourceSchema(src!, sel);
      const { resumed } = await ensureCheckpoints(tgt!, taskId, info.source);
      if (resumed) events.info(`resuming task ${taskId}: objects and units done by the earlier run are skipped`);
      await enterPhase('schema');
      for (const w of generated.warnings) events.warn(w);
      result.notMigrated = generated.notMigrated;
      const pre = generated.statements.filter((s) => s.section === 'pre');
      await applyStatements(tgt!, pre, { taskId, events, ifExists: task.ifExists });
      return generated;
    });

    const tables = await listCopyTables(src, sel);
    const sequences = await listSequences(src, sel);
    result.copy = await events.phase('data', async () => {
      await enterPhase('data');
      return copyData({
        source,
        target,
        taskId,
        tables,
        early: schema.statements.filter((s) => s.section === 'early'),
        sequences,
        jobs: task.jobs,
        indexJobs: task.indexJobs ?? Math.max(1, Math.ceil(task.jobs / 2)),
        copy: task.copy,
        events,
        state,
        signal: o.signal,
      }).then(async (copied) => {
        if (copiesLargeObjects(task)) {
          if (o.signal?.aborted) throw o.signal.reason;
          const lo = await copyLargeObjects({ source, target, taskId, events, noOwner: task.noOwner, ownerTo: task.ownerTo, noAcl: task.noAcl });
          if (lo.objects + lo.skipped > 0) copied.largeObjects = lo.objects + lo.skipped;
        }
        return copied;
      });
    });

    if (o.signal?.aborted) throw o.signal.reason;
    await events.phase('post-data', async () => {
      await enterPhase('post-data');
      const late = schema.statements.filter((s) => s.section === 'late');
      await applyStatements(tgt!, late, { taskId, events, ifExists: task.ifExists });
    });

    if (task.verify !== 'none') {
      result.verify = await events.phase('verify', async () => {
        await enterPhase('verify');
        const report = await verify(task, { mode: task.verify as 'count' | 'hash', events });
        if (!report.ok) events.warn('verification found differences between source and target (see the report)');
        return report;
      });
    }
    await setTaskPhase(tgt, taskId, 'done', result.verify && !result.verify.ok ? 'mismatch' : 'done');
    setStatus('report', 'done');
    result.durationMs = Date.now() - t0;
    events.emit({ type: 'task-end', ok: !result.verify || result.verify.ok, durationMs: result.durationMs });
    return result;
  } catch (e) {
    result.durationMs = Date.now() - t0;
    events.emit({ type: 'task-end', ok: false, durationMs: result.durationMs, error: e instanceof Error ? e.message : String(e) });
    try {
      writeTask({ status: 'failed', error: e instanceof Error ? e.message : String(e) });
    } catch { /* keep the original error */ }
    if (tgt) await setTaskPhase(tgt, taskId, 'failed', 'failed').catch(() => {});
    throw e;
  } finally {
    countObjects();
    stopEvents();
    unlock();
    await src?.end().catch(() => {});
    await tgt?.end().catch(() => {});
  }
}

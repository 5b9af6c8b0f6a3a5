/**
 * The tasks of the service: kept in the TaskStore (the state directory by default, so tasks run by
 * `pgferry migrate` with the same state dir show up here and the reverse), with their connection
 * strings encrypted aside (secrets.ts) and the service's own state in service.json. Runs go through
 * the Supervisor; this class answers the API's questions and checks what may happen in which state.
 */
import { rmSync } from 'node:fs';
import { PgferryError } from '../core/errors.js';
import { Redactor } from '../core/redact.js';
import { runPrecheck } from '../stages/precheck/index.js';
import { FileTaskStore } from '../state/file-store.js';
import { readControls, StateDir, type Controls } from '../state/state-dir.js';
import { unreachableNote, type LeaseHolder, type TaskRecord, type TaskStore } from '../state/store.js';
import type { Limits, TaskDetail, TaskSummary } from './api-schemas.js';
import type { EventHub } from './event-hub.js';
import { badRequest, conflict, HttpError, notFound } from './http-error.js';
import type { SecretBox } from './secrets.js';
import type { ApiPrecheck } from './service-state.js';
import type { Supervisor } from './supervisor.js';
import { maskedConfig, readTaskBody, runnableTask } from './task-input.js';
import { detail, limitsOf, summarize, type TaskFacts } from './task-view.js';
import { toApiPrecheck } from './precheck-view.js';
import { leaseHolderName } from '../engine/task-record.js';
import { finishTask } from './finish.js';
import { EventBus } from '../core/events.js';
import { cutover, liftReadOnly, type CutoverResult } from '../engine/cutover.js';
import type { CutoverBody } from './cutover.js';
import { openEventLog } from '../state/eventlog.js';
import { distributedRefusal } from './distributed-task.js';

export interface ManagerOptions {
  dataDir: string;
  store: TaskStore;
  box: SecretBox;
  hub: EventHub;
  supervisor: Supervisor;
  /** The control database of distributed tasks (`pgferry serve --control`). */
  control?: string;
  /** Told when a task is deleted (its metrics go). */
  onDelete?: (id: string) => void;
}

export class TaskManager {
  private prechecking = new Set<string>();
  private cuttingOver = new Set<string>();

  constructor(private readonly o: ManagerOptions) {}

  state(id: string, redactor?: Redactor): StateDir {
    return new StateDir(this.o.dataDir, id, redactor);
  }

  async record(id: string): Promise<TaskRecord> {
    const rec = await this.o.store.get(id).catch((e) => {
      if (e instanceof PgferryError && e.kind === 'usage') return undefined; // not a valid task id
      throw e;
    });
    if (!rec || rec.status === 'deleted') throw notFound(id);
    return rec;
  }

  /**
   * Who else runs the task: the holder of its live lease in the store, when not this server (a holder
   * known gone holds no live lease: the store tells).
   */
  private async otherRunner(id: string): Promise<LeaseHolder | undefined> {
    const lease = await this.o.store.currentLease(id).catch(() => undefined);
    return lease && lease.holder !== leaseHolderName() ? lease : undefined;
  }

  private async facts(rec: TaskRecord): Promise<TaskFacts> {
    const state = this.state(rec.id);
    const live = this.o.supervisor.running(rec.id);
    const other = live ? undefined : await this.otherRunner(rec.id);
    return {
      record: rec,
      service: this.o.supervisor.service(rec.id),
      live,
      other: other?.holder,
      otherNote: other && unreachableNote(other),
      prechecking: this.prechecking.has(rec.id),
      state,
      lastProgress: live ? this.o.hub.lastProgress(rec.id) : undefined,
    };
  }

  async list(): Promise<TaskSummary[]> {
    const recs = (await this.o.store.list()).filter((r) => r.status !== 'deleted');
    return Promise.all(recs.map(async (r) => summarize(await this.facts(r))));
  }

  async summary(id: string): Promise<TaskSummary> {
    return summarize(await this.facts(await this.record(id)));
  }

  async detail(id: string): Promise<TaskDetail> {
    const rec = await this.record(id);
    // secrets that cannot be opened do not hide the task: its stored config holds no password anyway
    let secrets: ReturnType<SecretBox['load']>;
    try {
      secrets = this.o.box.load(id);
    } catch {
      secrets = undefined;
    }
    return detail(await this.facts(rec), maskedConfig(rec.config, secrets));
  }

  /** Refused while the task runs here, waits for its next attempt, or runs in another process. */
  private async assertIdle(id: string, what: string): Promise<void> {
    const f = await this.facts(await this.record(id));
    if (this.o.supervisor.busy(id) || f.other !== undefined || this.prechecking.has(id)) {
      const who = f.other !== undefined ? ` (${f.other})` : '';
      throw conflict(`task "${id}" is running${who}: cannot ${what}`, 'stop it first (POST /api/tasks/:id/stop)');
    }
  }

  /** The task as read from a request body, refused when this server cannot run it. */
  private input(body: unknown, id?: string): ReturnType<typeof readTaskBody> {
    const input = readTaskBody(body, this.o.dataDir, id);
    const refusal = distributedRefusal(input.task, this.o.control);
    if (refusal) throw badRequest(refusal.message, refusal.hint ?? '', 'distributed');
    return input;
  }

  async create(body: unknown): Promise<TaskDetail> {
    const input = this.input(body);
    const existing = await this.o.store.get(input.id);
    if (existing && existing.status !== 'deleted') {
      throw conflict(
        `task "${input.id}" already exists`,
        'pick another name, or change the task with PUT /api/tasks/:id',
      );
    }
    await this.o.box.save(input.id, input.secrets);
    const info = { source: input.config.source, target: input.config.target };
    const init = { status: 'created', phase: null, config: input.config, info };
    // a store without deletion (PostgreSQL) keeps deleted records: the name is free again
    if (existing) await this.o.store.update(input.id, init);
    else await this.o.store.create(input.id, init);
    return this.detail(input.id);
  }

  async replace(id: string, body: unknown): Promise<TaskDetail> {
    await this.assertIdle(id, 'change it');
    const input = this.input(body, id);
    await this.o.box.save(id, input.secrets);
    const info = { source: input.config.source, target: input.config.target };
    await this.o.store.update(id, { config: input.config, info });
    return this.detail(id);
  }

  async remove(id: string): Promise<void> {
    await this.assertIdle(id, 'delete it');
    if (this.o.store instanceof FileTaskStore) {
      rmSync(this.state(id).dir, { recursive: true, force: true });
    } else {
      await this.o.store.update(id, { status: 'deleted' });
      rmSync(this.state(id).dir, { recursive: true, force: true });
    }
    this.o.hub.forget(id);
    this.o.onDelete?.(id);
  }

  async start(id: string): Promise<TaskDetail> {
    await this.assertIdle(id, 'start it again');
    // a start by hand goes on copying: a pause left from the last run ends here
    const controls = readControls(this.state(id));
    if (controls?.paused) this.writeControls(id, { ...controls, paused: false });
    await this.o.supervisor.start(id);
    return this.detail(id);
  }

  /**
   * Stop, at once. A task another process runs is refused (stop that process), unless this service
   * means to resume it (desired "run": the holder is then, as a rule, a run that died — a crashed
   * server's lease runs until it expires): the stop is recorded and the waiting attempt cancelled. A
   * stop given again while that holder's lease runs changes nothing and is taken too.
   */
  async stop(id: string): Promise<TaskDetail> {
    const f = await this.facts(await this.record(id));
    const other = f.other;
    const ours = f.service?.desired === 'run' || (f.service?.desired === 'stop' && f.service.waitingFor === other);
    if (other !== undefined && !ours) {
      throw conflict(`task "${id}" runs in another process (${other})`, 'stop that process (Ctrl-C or kill <pid>)');
    }
    await this.o.supervisor.stop(id);
    return this.detail(id);
  }

  async verify(id: string): Promise<TaskDetail> {
    await this.assertIdle(id, 'verify it now');
    await this.o.supervisor.verify(id);
    return this.detail(id);
  }

  /** Remove the task's checkpoints from the target; the account clean-up SQL comes back with the task. */
  async finish(id: string): Promise<TaskDetail & { cleanupSql: string }> {
    await this.assertIdle(id, 'finish it');
    const rec = await this.record(id);
    const redactor = new Redactor();
    const task = runnableTask(id, rec.config, this.o.dataDir, this.o.box.load(id));
    const { cleanupSql } = await finishTask(id, task, redactor);
    await this.o.supervisor.patch(id, { finished: new Date().toISOString() });
    return { ...(await this.detail(id)), cleanupSql: redactor.redact(cleanupSql) };
  }

  /** Cut an incremental task over to its target (the running apply, if any, stops at the source's position). */
  async cutover(id: string, body: CutoverBody): Promise<CutoverResult | { taskId: string; readOnlyLifted: string[] }> {
    const rec = await this.record(id);
    if (rec.config.incremental !== true) {
      throw conflict(`task "${id}" is not incremental: it needs no cutover`, 'finish it (POST …/finish)');
    }
    if (this.cuttingOver.has(id)) throw conflict(`task "${id}" is being cut over already`, 'wait for that cutover');
    const redactor = new Redactor();
    const task = runnableTask(id, rec.config, this.o.dataDir, this.o.box.load(id));
    this.cuttingOver.add(id);
    const bus = new EventBus();
    // The task's event stream (numbered in its event log) carries the cutover's events unless a run of
    // the task writes to it meanwhile; the answer carries the steps either way.
    const live = this.o.supervisor.running(id);
    const log = live ? undefined : openEventLog(this.state(id, redactor), bus, id);
    const detach = live ? () => {} : this.o.hub.attach(id, bus);
    try {
      if (body.undoReadOnly) {
        const r = await liftReadOnly(task, { redactor });
        return { taskId: r.taskId, readOnlyLifted: r.tables };
      }
      const opts = {
        readOnly: body.readOnly,
        reverse: body.reverse,
        timeoutSec: body.timeoutSec,
        events: bus,
        store: this.o.store,
        redactor,
      };
      const result = await cutover(task, opts);
      await this.o.supervisor.patch(id, { finished: result.targetReadyAt });
      return result;
    } finally {
      detach();
      await log?.close().catch(() => {});
      this.cuttingOver.delete(id);
    }
  }

  /** Pause or resume the copy: control.json, which the run follows within a second. */
  async setPaused(id: string, paused: boolean): Promise<TaskDetail> {
    const rec = await this.record(id);
    const f = await this.facts(rec);
    if (!f.live && f.other === undefined) {
      throw conflict(`task "${id}" is not running`, paused ? 'start it first' : 'start it (POST …/start)');
    }
    this.writeControls(id, { ...(readControls(this.state(id)) ?? {}), paused });
    this.o.supervisor.controls(id)?.set({ paused });
    return this.detail(id);
  }

  async setLimits(id: string, change: Controls): Promise<Limits> {
    const rec = await this.record(id);
    this.writeControls(id, { ...(readControls(this.state(id)) ?? {}), ...change });
    this.o.supervisor.controls(id)?.set(change);
    return limitsOf(rec, this.state(id));
  }

  private writeControls(id: string, c: Controls): void {
    this.state(id).writeJson('control.json', c);
  }

  async precheck(id: string): Promise<ApiPrecheck> {
    await this.assertIdle(id, 'precheck it');
    const rec = await this.record(id);
    const redactor = new Redactor();
    const task = runnableTask(id, rec.config, this.o.dataDir, this.o.box.load(id));
    this.prechecking.add(id);
    try {
      const report = await runPrecheck(task, { taskId: id, skip: task.skipChecks, redactor });
      const result = toApiPrecheck(report, redactor);
      await this.o.supervisor.patch(id, { precheck: result });
      return result;
    } finally {
      this.prechecking.delete(id);
    }
  }

  async lastPrecheck(id: string): Promise<ApiPrecheck> {
    await this.record(id);
    const p = this.o.supervisor.service(id).precheck;
    if (!p) {
      throw new HttpError(
        404,
        'not_found',
        `task "${id}" has not been prechecked yet`,
        'run POST /api/tasks/:id/precheck',
      );
    }
    return p;
  }
}

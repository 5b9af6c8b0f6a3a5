/**
 * GET /metrics in the Prometheus text format (prom-client, a registry of this server's own): tasks
 * by state (read from the task list at each scrape), rows and bytes copied and retries (counted
 * from the runs' events), copy rates and change-capture lag (the latest event), automatic resume
 * attempts (told by the supervisor), HTTP requests and their latency, and the process's own metrics.
 * A deleted task's series go with it (forget).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { TimedEvent } from '../core/events.js';
import { TASK_STATUSES } from './api-schemas.js';

export class ServiceMetrics {
  readonly registry = new Registry();
  private rows: Counter<'task'>;
  private bytes: Counter<'task'>;
  private rowsRate: Gauge<'task'>;
  private bytesRate: Gauge<'task'>;
  private retries: Counter<'task'>;
  private resumes: Counter<'task' | 'reason'>;
  private lagBytes: Gauge<'task'>;
  private lagSec: Gauge<'task'>;
  private requests: Counter<'method' | 'route' | 'status'>;
  private latency: Histogram<'method' | 'route'>;
  /** The task list's states, read once per scrape. */
  private scrape: Promise<string[] | undefined> | undefined;

  /** `taskStates`: the status of every task, read at each scrape. */
  constructor(taskStates: () => Promise<string[]>) {
    const registers = [this.registry];
    // one read of the task list per scrape, shared by the two gauges that need it (collected concurrently)
    const states = () => (this.scrape ??= taskStates().catch(() => undefined));
    new Gauge({
      name: 'pgferry_task_store_up',
      help: 'Whether the task store answered the scrape (1) or not (0: pgferry_tasks is then left out)',
      registers,
      async collect() {
        this.set((await states()) ? 1 : 0);
      },
    });
    new Gauge({
      name: 'pgferry_tasks',
      help: 'Tasks by state',
      labelNames: ['state'],
      registers,
      async collect() {
        this.reset();
        const now = await states();
        if (!now) return; // the other metrics still answer while the store is down
        const counts = new Map<string, number>(TASK_STATUSES.map((s) => [s, 0]));
        for (const s of now) counts.set(s, (counts.get(s) ?? 0) + 1);
        for (const [state, n] of counts) this.set({ state }, n);
      },
    });
    this.rows = new Counter({
      name: 'pgferry_rows_copied_total',
      help: 'Rows copied to the target by the runs of this server',
      labelNames: ['task'],
      registers,
    });
    this.bytes = new Counter({
      name: 'pgferry_bytes_copied_total',
      help: 'COPY stream bytes copied to the target by the runs of this server',
      labelNames: ['task'],
      registers,
    });
    this.rowsRate = new Gauge({
      name: 'pgferry_copy_rows_per_second',
      help: 'Rows per second of the running copy (0 when none runs)',
      labelNames: ['task'],
      registers,
    });
    this.bytesRate = new Gauge({
      name: 'pgferry_copy_bytes_per_second',
      help: 'Bytes per second of the running copy (0 when none runs)',
      labelNames: ['task'],
      registers,
    });
    this.retries = new Counter({
      name: 'pgferry_retries_total',
      help: 'Operations retried within a run after a transient error',
      labelNames: ['task'],
      registers,
    });
    this.resumes = new Counter({
      name: 'pgferry_resume_attempts_total',
      help: 'Runs started by the service itself: after a transient failure (retry) or at server start (restart)',
      labelNames: ['task', 'reason'],
      registers,
    });
    this.lagBytes = new Gauge({
      name: 'pgferry_cdc_lag_bytes',
      help: 'Change capture: WAL bytes the target is behind the source',
      labelNames: ['task'],
      registers,
    });
    this.lagSec = new Gauge({
      name: 'pgferry_cdc_lag_seconds',
      help: 'Change capture: seconds the target is behind the source',
      labelNames: ['task'],
      registers,
    });
    this.requests = new Counter({
      name: 'pgferry_http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.latency = new Histogram({
      name: 'pgferry_http_request_duration_seconds',
      help: 'Time to answer an HTTP request (until the end of the response; event streams excluded)',
      labelNames: ['method', 'route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    collectDefaultMetrics({ register: this.registry });
  }

  /** A run's event (every task's events pass here). */
  event(task: string, e: TimedEvent): void {
    switch (e.type) {
      case 'unit-done':
        this.rows.inc({ task }, e.rows);
        this.bytes.inc({ task }, e.bytes);
        break;
      case 'progress':
        this.rowsRate.set({ task }, e.rowsPerSec);
        this.bytesRate.set({ task }, e.bytesPerSec);
        break;
      case 'retry':
        // the service's own resume announcements are counted by resumed()
        if (!e.what.startsWith(`task ${task} `)) this.retries.inc({ task });
        break;
      case 'cdc-lag':
        this.lagBytes.set({ task }, e.lagBytes);
        this.lagSec.set({ task }, e.lagSec);
        break;
      case 'task-end':
        this.rowsRate.set({ task }, 0);
        this.bytesRate.set({ task }, 0);
        break;
    }
  }

  /** A deleted task: its label sets leave every per-task metric. */
  forget(task: string): void {
    for (const m of [this.rows, this.bytes, this.rowsRate, this.bytesRate, this.retries, this.lagBytes, this.lagSec]) {
      m.remove({ task });
    }
    for (const reason of ['retry', 'restart'] as const) this.resumes.remove({ task, reason });
  }

  resumed(task: string, reason: 'retry' | 'restart'): void {
    this.resumes.inc({ task, reason });
  }

  request(method: string, route: string, status: number, seconds: number): void {
    this.requests.inc({ method, route, status: String(status) });
    if (route !== '/api/tasks/:id/events') this.latency.observe({ method, route }, seconds);
  }

  text(): Promise<string> {
    this.scrape = undefined;
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/**
 * `pgferry worker`: copies units of any running distributed task from the control database
 * until stopped. It needs only the control URL: each task's source and target URIs are there
 * without passwords, and this host's ~/.pgpass or PG* environment supplies them.
 */
import type { EventBus } from '../core/events.js';
import type { Redactor } from '../core/redact.js';
import { resolveConnSpec, type ConnSpec } from '../pg/connstring.js';
import { ControlDb, startJobs, timingFromEnv, type JobTiming } from '../stages/data/distributed/control.js';
import { UnitConsumer, type TaskRow } from '../stages/data/distributed/consumer.js';

export interface WorkerOptions {
  control: ConnSpec;
  /** Units copied at once. */
  jobs: number;
  events: EventBus;
  redactor: Redactor;
  signal: AbortSignal;
  timing?: JobTiming;
}

/** Run until `signal` aborts; units running then are finished first. */
export async function runWorker(o: WorkerOptions): Promise<void> {
  const timing = o.timing ?? timingFromEnv();
  const db = new ControlDb(o.control, 'worker');
  const boss = await startJobs(db, timing, (e) => o.events.warn(`job system: ${e.message}`));
  const specs = new Map<string, { source: ConnSpec; target: ConnSpec }>();
  const specsFor = (t: TaskRow) => {
    const key = `${t.source_uri}\u0000${t.target_uri}`;
    let s = specs.get(key);
    if (!s) {
      s = {
        source: resolveConnSpec(t.source_uri, { redactor: o.redactor }),
        target: resolveConnSpec(t.target_uri, { redactor: o.redactor }),
      };
      specs.set(key, s);
    }
    return s;
  };
  const consumer = new UnitConsumer({
    db,
    boss,
    timing,
    concurrency: o.jobs,
    specsFor,
    log: (level, m) => (level === 'warn' ? o.events.warn(m) : o.events.info(m)),
  });
  consumer.start();
  o.events.info(`worker ${consumer.workerId} copying units of running tasks, ${o.jobs} at a time`);
  try {
    await new Promise<void>((res) => {
      if (o.signal.aborted) res();
      o.signal.addEventListener('abort', () => res(), { once: true });
    });
  } finally {
    await consumer.stop();
    await boss.stop({ graceful: false, wait: true, close: false }).catch(() => {});
    await db.close();
    o.events.info(`worker ${consumer.workerId} stopped`);
  }
}

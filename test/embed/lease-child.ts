// Child of task-store.test.ts: runs a task through a PostgreSQL task store with a short lease, its
// copy paused, printing events as JSON lines, until the test kills it.
// argv: <store conninfo> <task as JSON> <lease ttl ms>
import { validateTask } from '../../src/core/config.js';
import { EventBus } from '../../src/core/events.js';
import { migrate } from '../../src/engine/runner.js';
import { controlsFrom } from '../../src/stages/data/copy/engine.js';
import { PgTaskStore } from '../../src/state/pg-store.js';

const [storeUrl, taskJson, ttl] = process.argv.slice(2);
const task = validateTask(JSON.parse(taskJson));
const events = new EventBus();
events.on((e) => process.stdout.write(`${JSON.stringify(e)}\n`));
const controls = controlsFrom({ copy: task.copy, jobs: task.jobs });
controls.set({ paused: true });
await migrate(task, { events, store: new PgTaskStore(storeUrl), controls, leaseTtlMs: Number(ttl) });

/** /api/tasks: the task list, create, read, change, delete, and the actions on a task. */
import { parseRate } from '../../core/size.js';
import { limitsBody } from '../api-schemas.js';
import { badRequest } from '../http-error.js';
import { readCutoverBody } from '../cutover.js';
import { json, type Router } from '../router.js';
import type { TaskManager } from '../task-manager.js';
import type { Controls } from '../../state/state-dir.js';

function rateOf(v: unknown, kind: 'rows' | 'bytes', field: string): number | null {
  if (v === null || v === 0) return null;
  try {
    return parseRate(v as string | number, field, kind) || null;
  } catch (e) {
    const eg = kind === 'rows' ? 'e.g. 20000, "20k" or null' : 'e.g. 52428800, "50MB" or null';
    throw badRequest(`${field}: ${(e as Error).message}`, `give ${eg} (null or "off": no limit)`, field);
  }
}

/** PATCH …/limits body → the control change. */
export function readLimits(raw: unknown): Controls {
  const r = limitsBody.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    const field = i.code === 'unrecognized_keys' ? i.keys[0] : i.path.join('.');
    throw badRequest(`limits: ${field}: ${i.message}`, 'send { rowsPerSec?, bytesPerSec?, jobs? }', field);
  }
  const c: Controls = {};
  if (r.data.rowsPerSec !== undefined) c.maxRowsPerSec = rateOf(r.data.rowsPerSec, 'rows', 'rowsPerSec');
  if (r.data.bytesPerSec !== undefined) c.maxBytesPerSec = rateOf(r.data.bytesPerSec, 'bytes', 'bytesPerSec');
  if (r.data.jobs !== undefined) c.jobs = r.data.jobs;
  return c;
}

export function taskRoutes(router: Router, tasks: TaskManager): void {
  router
    .add('GET', '/api/tasks', async () => json({ tasks: await tasks.list() }))
    .add('POST', '/api/tasks', async (c) => json(await tasks.create(await c.body()), 201))
    .add('GET', '/api/tasks/:id', async (c) => json(await tasks.detail(c.params.id)))
    .add('PUT', '/api/tasks/:id', async (c) => json(await tasks.replace(c.params.id, await c.body())))
    .add('DELETE', '/api/tasks/:id', async (c) => {
      await tasks.remove(c.params.id);
      return json({ ok: true, id: c.params.id });
    })
    .add('POST', '/api/tasks/:id/precheck', async (c) => json(await tasks.precheck(c.params.id)))
    .add('GET', '/api/tasks/:id/precheck', async (c) => json(await tasks.lastPrecheck(c.params.id)))
    .add('POST', '/api/tasks/:id/start', async (c) => json(await tasks.start(c.params.id), 202))
    .add('POST', '/api/tasks/:id/stop', async (c) => json(await tasks.stop(c.params.id), 202))
    .add('POST', '/api/tasks/:id/pause', async (c) => json(await tasks.setPaused(c.params.id, true), 202))
    .add('POST', '/api/tasks/:id/resume', async (c) => json(await tasks.setPaused(c.params.id, false), 202))
    .add('POST', '/api/tasks/:id/finish', async (c) => json(await tasks.finish(c.params.id), 202))
    .add('POST', '/api/tasks/:id/cutover', async (c) =>
      json(await tasks.cutover(c.params.id, readCutoverBody(await c.body()))),
    )
    .add('POST', '/api/tasks/:id/verify', async (c) => json(await tasks.verify(c.params.id), 202))
    .add('PATCH', '/api/tasks/:id/limits', async (c) =>
      json(await tasks.setLimits(c.params.id, readLimits(await c.body()))),
    );
}

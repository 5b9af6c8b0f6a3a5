/** GET /api/tasks/:id/events (Server-Sent Events) and the task's report. */
import { existsSync, readFileSync } from 'node:fs';
import { Redactor } from '../../core/redact.js';
import type { EventHub } from '../event-hub.js';
import { HttpError } from '../http-error.js';
import type { Router } from '../router.js';
import { lastEventIdOf, streamEvents } from '../sse.js';
import type { TaskManager } from '../task-manager.js';

const noReport = (id: string) =>
  new HttpError(
    404,
    'not_found',
    `task "${id}" has no report yet`,
    'a report is written when a run ends; start the task',
  );

export function eventRoutes(router: Router, tasks: TaskManager, hub: EventHub): void {
  router
    .add('GET', '/api/tasks/:id/events', async (c) => {
      const id = c.params.id;
      await tasks.record(id);
      const after = lastEventIdOf(c.req.headers['last-event-id'], c.query.get('lastEventId'));
      streamEvents(c.res, { task: id, state: tasks.state(id), hub, after, redactor: new Redactor() });
      return undefined;
    })
    .add('GET', '/api/tasks/:id/report', async (c) => {
      await tasks.record(c.params.id);
      const p = tasks.state(c.params.id).path('report.json');
      if (!existsSync(p)) throw noReport(c.params.id);
      return { status: 200, text: readFileSync(p, 'utf8'), type: 'application/json; charset=utf-8' };
    })
    .add('GET', '/api/tasks/:id/report.md', async (c) => {
      await tasks.record(c.params.id);
      const p = tasks.state(c.params.id).path('report.md');
      if (!existsSync(p)) throw noReport(c.params.id);
      return { status: 200, text: readFileSync(p, 'utf8'), type: 'text/markdown; charset=utf-8' };
    });
}

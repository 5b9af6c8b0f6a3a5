/**
 * GET /api/tasks/:id/events as Server-Sent Events (https://html.spec.whatwg.org/multipage/server-sent-events.html):
 * `id:` is the event's seq, `event:` its type, `data:` the event as JSON. The stream replays the
 * task's events after Last-Event-ID (the header a reconnecting EventSource sends, or ?lastEventId=)
 * from events.jsonl and the live history, then follows the task live; progress events are sent at
 * most once a second. Every event has passed the task's redactor before it reaches a client.
 */
import type { ServerResponse } from 'node:http';
import type { TimedEvent } from '../core/events.js';
import { readEventsFile } from '../stages/report/index.js';
import { readProgressFile } from '../state/progress-file.js';
import type { StateDir } from '../state/state-dir.js';
import { scrub } from '../state/scrub.js';
import type { Redactor } from '../core/redact.js';
import type { EventHub } from './event-hub.js';

const PROGRESS_EVERY_MS = 1000;
const HEARTBEAT_MS = 15_000;

export function lastEventIdOf(header: string | string[] | undefined, query: string | null): number {
  const raw = (Array.isArray(header) ? header[0] : header) ?? query ?? '';
  const n = Number(raw);
  return Number.isInteger(n) && n > 0 ? n : 0;
}

/** The recorded and recent events after `after`, in seq order, each once. */
export function replayEvents(state: StateDir, recent: TimedEvent[], after: number): TimedEvent[] {
  const bySeq = new Map<number, TimedEvent>();
  const progress = readProgressFile(state);
  for (const e of [...readEventsFile(state), ...(progress ? [progress] : []), ...recent]) {
    if (typeof e.seq === 'number' && e.seq > after) bySeq.set(e.seq, e);
  }
  const out = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  // only the newest progress snapshot is worth replaying
  const lastProgress = [...out].reverse().find((e) => e.type === 'progress');
  return out.filter((e) => e.type !== 'progress' || e === lastProgress);
}

const frame = (e: TimedEvent, r: Redactor): string =>
  `id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(scrub(e, r))}\n\n`;

export function streamEvents(
  res: ServerResponse,
  o: { task: string; state: StateDir; hub: EventHub; after: number; redactor: Redactor },
): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  let sent = o.after;
  let lastProgressAt = 0;
  let pending: TimedEvent | undefined;
  let timer: NodeJS.Timeout | undefined;
  const write = (e: TimedEvent) => {
    if (e.seq <= sent) return;
    sent = e.seq;
    res.write(frame(e, o.redactor));
  };
  const flushProgress = () => {
    timer = undefined;
    if (!pending) return;
    const e = pending;
    pending = undefined;
    lastProgressAt = Date.now();
    write(e);
  };
  const onEvent = (e: TimedEvent) => {
    if (e.type !== 'progress') {
      // a progress event held back is dropped rather than sent out of order: ids only go up
      pending = undefined;
      return write(e);
    }
    pending = e;
    const wait = lastProgressAt + PROGRESS_EVERY_MS - Date.now();
    if (wait <= 0) flushProgress();
    else timer ??= setTimeout(flushProgress, wait);
  };
  const { recent, stop } = o.hub.follow(o.task, onEvent);
  res.write(': pgferry event stream\n\n');
  for (const e of replayEvents(o.state, recent, o.after)) write(e);
  const beat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
  res.on('close', () => {
    stop();
    clearInterval(beat);
    if (timer) clearTimeout(timer);
  });
}

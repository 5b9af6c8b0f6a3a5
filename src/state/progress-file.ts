/**
 * progress.json: the latest progress event of a task, overwritten (atomically: written aside,
 * then renamed) instead of appended to events.jsonl. `status` and a UI read it; events.jsonl keeps
 * the state changes only.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { TimedEvent } from '../core/events.js';
import type { StateDir } from './state-dir.js';
import { scrubbedJson } from './scrub.js';

export const PROGRESS_FILE = 'progress.json';
export const PROGRESS_VERSION = 1;

export type ProgressEvent = Extract<TimedEvent, { type: 'progress' }>;

/** The file's document: the event, marked with the format version. */
export const progressDocument = (e: ProgressEvent): string => scrubbedJson({ version: PROGRESS_VERSION, ...e }) + '\n';

/** The last progress snapshot of the task, or undefined (none, unreadable or of another format). */
export function readProgressFile(state: StateDir): ProgressEvent | undefined {
  const p = state.path(PROGRESS_FILE);
  if (!existsSync(p)) return undefined;
  try {
    const { version, ...e } = JSON.parse(readFileSync(p, 'utf8')) as ProgressEvent & { version?: number };
    return version === PROGRESS_VERSION && e.type === 'progress' ? e : undefined;
  } catch {
    return undefined; // being replaced right now cannot happen (rename), but a hand-edited file can
  }
}

/**
 * The task's events with its progress snapshot in sequence: after the last event numbered before it
 * (events of a pgferry that did not number them count as before it).
 */
export function withProgress(events: TimedEvent[], progress: ProgressEvent | undefined): TimedEvent[] {
  if (!progress) return events;
  let at = events.length;
  while (at > 0 && typeof events[at - 1].seq === 'number' && events[at - 1].seq > progress.seq) at--;
  return [...events.slice(0, at), progress, ...events.slice(at)];
}

/**
 * A task's event log in its state dir. State changes are appended to events.jsonl, buffered and
 * written asynchronously (one append per batch, not per event); progress events replace
 * progress.json at most once per `progressIntervalMs`. `close()` writes what is left; a process
 * that exits without it (process.exit on a signal) gets the buffered lines written synchronously.
 */
import {
  appendFileSync,
  closeSync,
  existsSync,
  fstatSync,
  openSync,
  readSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { appendFile, rename } from 'node:fs/promises';
import type { EventBus, TimedEvent } from '../core/events.js';
import type { StateDir } from './state-dir.js';
import { scrubbedJson } from './scrub.js';
import { touchPrivate, writePrivate } from './private-file.js';
import { PROGRESS_FILE, progressDocument, readProgressFile, type ProgressEvent } from './progress-file.js';

export const EVENTS_FILE = 'events.jsonl';

export interface EventLogOptions {
  /** Longest wait before buffered lines are appended (default 200 ms). */
  flushDelayMs?: number;
  /** Shortest time between two writes of progress.json (default 1000 ms). */
  progressIntervalMs?: number;
}

/** The highest `seq` in the last 64 kB of events.jsonl (0 when none). */
export function lastSeqInFile(path: string): number {
  if (!existsSync(path)) return 0;
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const len = Math.min(size, 64 * 1024);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    let last = 0;
    for (const line of buf.toString('utf8').split('\n')) {
      const m = /"seq":(\d+)/.exec(line);
      if (m) last = Math.max(last, Number(m[1]));
    }
    return last;
  } finally {
    closeSync(fd);
  }
}

export class EventLog {
  /** Writes done so far: appends to events.jsonl, replacements of progress.json. */
  readonly writes = { appends: 0, progress: 0 };
  private lines: string[] = [];
  private writing: Promise<void> = Promise.resolve();
  private flushTimer: NodeJS.Timeout | undefined;
  private progress: ProgressEvent | undefined;
  private progressTimer: NodeJS.Timeout | undefined;
  private progressWrittenAt = 0;
  private error: unknown;
  private closed = false;
  private readonly onExit = () => this.flushSync();
  private readonly flushDelayMs: number;
  private readonly progressIntervalMs: number;

  constructor(
    readonly state: StateDir,
    opts: EventLogOptions = {},
  ) {
    this.flushDelayMs = opts.flushDelayMs ?? 200;
    this.progressIntervalMs = opts.progressIntervalMs ?? 1000;
    state.ensure();
    touchPrivate(this.path(EVENTS_FILE));
    process.on('exit', this.onExit);
  }

  private path(name: string): string {
    return this.state.path(name);
  }

  /** The seq the next event of the task gets: after the last one recorded by any run. */
  nextSeq(): number {
    return Math.max(lastSeqInFile(this.path(EVENTS_FILE)), readProgressFile(this.state)?.seq ?? 0) + 1;
  }

  write(e: TimedEvent): void {
    if (this.closed) return;
    if (e.type === 'progress') {
      this.noteProgress(e);
      return;
    }
    this.lines.push(scrubbedJson(e, undefined, this.state.redactor) + '\n');
    this.flushTimer ??= setTimeout(() => void this.flush(), this.flushDelayMs).unref();
  }

  /** Append the buffered lines (in order, after any append under way). */
  flush(): Promise<void> {
    this.clearFlushTimer();
    if (this.lines.length) {
      const chunk = this.lines.join('');
      this.lines = [];
      this.writes.appends++;
      this.writing = this.writing
        .then(() => appendFile(this.path(EVENTS_FILE), chunk, { mode: 0o600 }))
        .catch((err: unknown) => {
          this.error ??= err;
        });
    }
    return this.writing;
  }

  private noteProgress(e: ProgressEvent): void {
    this.progress = e;
    if (this.progressTimer) return;
    const wait = Math.max(0, this.progressWrittenAt + this.progressIntervalMs - Date.now());
    this.progressTimer = setTimeout(() => void this.writeProgress(), wait).unref();
  }

  private writeProgress(): Promise<void> {
    if (this.progressTimer) clearTimeout(this.progressTimer);
    this.progressTimer = undefined;
    const e = this.progress;
    if (!e) return this.writing;
    this.progress = undefined;
    this.progressWrittenAt = Date.now();
    this.writes.progress++;
    const tmp = this.path(`.${PROGRESS_FILE}.tmp`);
    this.writing = this.writing
      .then(() => writePrivate(tmp, progressDocument(e)))
      .then(() => rename(tmp, this.path(PROGRESS_FILE)))
      .catch((err: unknown) => {
        this.error ??= err;
      });
    return this.writing;
  }

  /** Write everything left and stop; resolves when it is on disk (a write error is thrown here). */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.writeProgress();
    await this.flush();
    this.closed = true;
    process.off('exit', this.onExit);
    if (this.error) throw this.error;
  }

  /** At process exit: the buffered lines and the last progress, synchronously. */
  flushSync(): void {
    this.clearFlushTimer();
    if (this.lines.length) appendFileSync(this.path(EVENTS_FILE), this.lines.join(''), { mode: 0o600 });
    this.lines = [];
    if (this.progress) {
      const tmp = this.path(`.${PROGRESS_FILE}.sync.tmp`);
      touchPrivate(tmp);
      writeFileSync(tmp, progressDocument(this.progress));
      renameSync(tmp, this.path(PROGRESS_FILE));
      this.progress = undefined;
    }
  }

  private clearFlushTimer(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
  }
}

/** Record the bus's events in the task's state dir, numbering them after the ones already there. */
export function openEventLog(
  state: StateDir,
  bus: EventBus,
  task: string,
  opts?: EventLogOptions,
): {
  log: EventLog;
  close: () => Promise<void>;
} {
  const log = new EventLog(state, opts);
  bus.bind(task, log.nextSeq());
  const off = bus.on((e) => log.write(e));
  return {
    log,
    close: async () => {
      off();
      await log.close();
    },
  };
}

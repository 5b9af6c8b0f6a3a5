/**
 * The task's local state directory (default ./.pgferry/<task>/): the task as run (no
 * passwords), events.jsonl, the report, the lease of the state-dir task store (lease.json), and
 * control.json — the hook through which throttling and job counts change while the task runs.
 *
 * Everything here is private whatever the umask: directories pgferry creates are 0700 and
 * files 0600 (also files and the task dir left by an earlier run): events carry server
 * messages with row values.
 */
import {
  chmodSync,
  closeSync,
  existsSync,
  fchmodSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { PgferryError } from '../core/errors.js';
import { defaultRedactor, type Redactor } from '../core/redact.js';
import { LEASE_FILE, leaseLive, readLeaseFile } from './lease-file.js';
import { prettyJsonPieces } from './pretty-json.js';

export const STATE_VERSION = 1;

/** Write (or append to) a file readable and writable by its owner only; `data` may come in pieces. */
function writePrivate(path: string, data: string | Iterable<string>, flag: 'w' | 'a' = 'w'): void {
  const fd = openSync(path, flag, 0o600);
  try {
    fchmodSync(fd, 0o600); // before any byte: an existing file may have had wider permissions
    if (typeof data === 'string') writeFileSync(fd, data);
    else for (const piece of data) writeFileSync(fd, piece);
  } finally {
    closeSync(fd);
  }
}

/** Pieces joined into writes of about `size` characters, each passed through `map`. */
function* batched(pieces: Iterable<string>, map: (s: string) => string, size = 256 * 1024): Generator<string> {
  let buf = '';
  for (const p of pieces) {
    buf += p;
    if (buf.length >= size) {
      yield map(buf);
      buf = '';
    }
  }
  if (buf) yield map(buf);
}

/** mkdir -p with 0700 for every directory it creates; the task dir itself is made private too. */
function makePrivateDir(dir: string): void {
  const first = mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (first !== undefined) {
    // mode is filtered through the umask; set it exactly on what was created here.
    for (let d = dir; ; d = dirname(d)) {
      chmodSync(d, 0o700);
      if (d === first || dirname(d) === d) break;
    }
  } else if ((statSync(dir).mode & 0o077) !== 0) {
    chmodSync(dir, 0o700);
  }
}

export class StateDir {
  readonly dir: string;
  /** `redactor` scrubs what is written here: the task's own (default: the command line's). */
  constructor(
    root: string,
    readonly task: string,
    readonly redactor: Redactor = defaultRedactor,
  ) {
    this.dir = resolve(root, task);
  }

  /** The root of the state directories; the command line applies $PGFERRY_STATE_DIR before this. */
  static rootFor(stateDir?: string): string {
    return resolve(stateDir ?? '.pgferry');
  }

  ensure(): void {
    makePrivateDir(this.dir);
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  exists(): boolean {
    return existsSync(this.dir);
  }

  /** Atomic write of a JSON document, passwords scrubbed. */
  writeJson(name: string, value: unknown): void {
    this.ensure();
    const tmp = this.path(`.${name}.tmp`);
    // in pieces (a report of 20,000 tables is 8 MB of text); a password never spans two of them, each
    // being whole entries of the document
    const doc = { version: STATE_VERSION, ...(value as object) };
    const pieces = function* () {
      yield* prettyJsonPieces(doc);
      yield '\n';
    };
    writePrivate(
      tmp,
      batched(pieces(), (s) => this.redactor.redact(s)),
    );
    renameSync(tmp, this.path(name));
  }

  readJson<T>(name: string): T | undefined {
    const p = this.path(name);
    if (!existsSync(p)) return undefined;
    let v: { version?: number };
    try {
      v = JSON.parse(readFileSync(p, 'utf8'));
    } catch (e) {
      throw new PgferryError('state', `state file ${p} is unreadable: ${(e as Error).message}`, {
        hint: 'remove the file (or the task dir) to start the task afresh',
      });
    }
    if (v.version !== STATE_VERSION) {
      throw new PgferryError('state', `state file ${p} has version ${v.version}, expected ${STATE_VERSION}`, {
        hint: 'finish the task with the pgferry version that started it',
      });
    }
    return v as T;
  }

  writeText(name: string, text: string): void {
    this.ensure();
    writePrivate(this.path(name), this.redactor.redact(text));
  }

  /**
   * pid of the live process running this task, if any: the holder of its lease (lease.json of the
   * state-dir task store), or of the pid lock an earlier pgferry took.
   */
  runningPid(): number | undefined {
    const lease = readLeaseFile(this.path(LEASE_FILE));
    if (leaseLive(lease) && lease.pid !== undefined) return lease.pid;
    const p = this.path('pid');
    if (!existsSync(p)) return undefined;
    const pid = Number(readFileSync(p, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    try {
      process.kill(pid, 0);
      return pid;
    } catch {
      return undefined;
    }
  }
}

/** Runtime controls read while a task runs (written by `pgferry throttle` or by hand). */
export interface Controls {
  maxRowsPerSec?: number | null;
  maxBytesPerSec?: number | null;
  jobs?: number;
  /** No new copy unit starts while true (units running finish). */
  paused?: boolean;
}

export function readControls(state: StateDir): Controls | undefined {
  const p = state.path('control.json');
  if (!existsSync(p)) return undefined;
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as Controls;
  } catch {
    return undefined;
  }
}

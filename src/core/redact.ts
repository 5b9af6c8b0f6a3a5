/**
 * Password scrubbing. A `Redactor` remembers the passwords of one task or command (from a URI, a
 * keyword/value string, PGPASSWORD or ~/.pgpass, registered as connection strings are resolved)
 * and every line that leaves it (logs, errors, JSON events, state files, reports) goes through
 * `redact`. Passwords written as URI or `password=` parameters are scrubbed by every redactor.
 *
 * Each run of `migrate` has its own redactor, so tasks running side by side in one process never
 * share their passwords. The command line uses `defaultRedactor`, which is also what the plain
 * `redact` and `registerSecret` functions (and calls that are given no redactor) use.
 */
const URI_PASSWORD = /(postgres(?:ql)?:\/\/[^:@/\s]*):([^@\s]*)@/gi;
const KV_PASSWORD = /(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)/gi;
const MASK = '********';

export class Redactor {
  private readonly secrets = new Set<string>();

  /** Remember a password: from now on it is scrubbed from every text this redactor sees. */
  add(value: string | undefined): void {
    if (value && value.length >= 1) this.secrets.add(value);
  }

  /** Does this redactor know the password? */
  knows(value: string): boolean {
    return this.secrets.has(value);
  }

  redact(text: string): string {
    let out = text.replace(URI_PASSWORD, `$1:${MASK}@`).replace(KV_PASSWORD, `$1${MASK}`);
    for (const s of this.secrets) {
      // very short secrets would destroy readability and are scrubbed only as whole tokens
      if (s.length < 4) {
        out = out.replace(new RegExp(`(?<=[\\s:='"])${escapeRegExp(s)}(?=[\\s@'"]|$)`, 'g'), MASK);
      } else {
        out = out.split(s).join(MASK);
      }
    }
    return out;
  }

  /** Scrub an error's message, hint and stack in place (it keeps its class and fields for the caller). */
  scrubError<T>(e: T): T {
    if (!(e instanceof Error)) return e;
    const fields = e as unknown as Record<string, unknown>;
    for (const key of ['message', 'hint', 'stack']) {
      const v = fields[key];
      if (typeof v === 'string' && this.redact(v) !== v) {
        Object.defineProperty(e, key, { value: this.redact(v), writable: true, configurable: true });
      }
    }
    return e;
  }
}

/** The command line's redactor, and the one used wherever no redactor is passed. */
export const defaultRedactor = new Redactor();

export function registerSecret(value: string | undefined, into: Redactor = defaultRedactor): void {
  into.add(value);
}

export function redact(text: string, by: Redactor = defaultRedactor): string {
  return by.redact(text);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

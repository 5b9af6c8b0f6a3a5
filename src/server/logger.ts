/**
 * The service's log: one line per entry, `json` (one object a line: time, level, msg, then fields
 * such as task, method, path, status, durationMs) or `text` (time, level, message, key=value; control
 * characters as U+FFFD, see core/printable.ts).
 * Every line passes a redactor that knows the API token, and scrubs passwords written in
 * connection strings, before it is written.
 */
import { printable } from '../core/printable.js';
import { Redactor } from '../core/redact.js';

export type LogFormat = 'text' | 'json';
export type LogLevel = 'info' | 'warn' | 'error';
export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

function textValue(v: string | number | boolean | null): string {
  const s = String(v);
  return /^[^\s"=]+$/.test(s) ? s : JSON.stringify(s);
}

export function formatEntry(
  format: LogFormat,
  level: LogLevel,
  msg: string,
  fields: LogFields = {},
  now = new Date(),
): string {
  const defined = Object.entries(fields).filter(([, v]) => v !== undefined) as [
    string,
    string | number | boolean | null,
  ][];
  if (format === 'json') return JSON.stringify({ time: now.toISOString(), level, msg, ...Object.fromEntries(defined) });
  const tail = defined.map(([k, v]) => `${k}=${textValue(v)}`).join(' ');
  // a text log is read on a terminal: no control character of a name or a message reaches it
  return printable(`${now.toISOString()} ${level.toUpperCase().padEnd(5)} ${msg}${tail ? ` ${tail}` : ''}`);
}

/** A logger writing whole lines to `write`, with `secrets` (the API token) scrubbed from them. */
export function createLogger(o: { format?: LogFormat; write: (line: string) => void; secrets?: string[] }): Logger {
  const r = new Redactor();
  for (const s of o.secrets ?? []) r.add(s);
  const emit = (level: LogLevel) => (msg: string, fields?: LogFields) => {
    o.write(r.redact(formatEntry(o.format ?? 'text', level, msg, fields)));
  };
  return { info: emit('info'), warn: emit('warn'), error: emit('error') };
}

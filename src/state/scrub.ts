/**
 * Passwords out of a value before it is stored: every string in it goes through `redact`. (Redacting
 * the serialised JSON instead would let a keyword/value password swallow the closing quote.)
 */
import { defaultRedactor, type Redactor } from '../core/redact.js';

export function scrub<T>(value: T, r: Redactor = defaultRedactor): T {
  if (typeof value === 'string') return r.redact(value) as T;
  if (Array.isArray(value)) return value.map((v) => scrub(v, r)) as T;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v, r)])) as T;
  }
  return value;
}

/** A JSON line or document of `value`, passwords removed (by the task's redactor, else the command line's). */
export const scrubbedJson = (value: unknown, indent?: number, r?: Redactor): string =>
  JSON.stringify(scrub(value, r), null, indent);

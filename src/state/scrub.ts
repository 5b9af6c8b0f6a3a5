/**
 * Passwords out of a value before it is stored: every string in it goes through `redact`. (Redacting
 * the serialised JSON instead would let a keyword/value password swallow the closing quote.)
 */
import { redact } from '../util/redact.js';

export function scrub<T>(value: T): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map(scrub) as T;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v)])) as T;
  }
  return value;
}

/** A JSON line or document of `value`, passwords removed. */
export const scrubbedJson = (value: unknown, indent?: number): string => JSON.stringify(scrub(value), null, indent);

/**
 * Parsers for flag values. A bad value is a usage error (exit 2) through commander's
 * InvalidArgumentError, which names the flag and the value on one line.
 */
import { InvalidArgumentError } from 'commander';
import { parseRate, parseSize, SIZE_EXAMPLES, SizeSyntaxError } from '../core/size.js';

function wrap<T>(fn: (v: string) => T, hint: string): (v: string) => T {
  return (v: string) => {
    try {
      return fn(v);
    } catch (e) {
      if (e instanceof SizeSyntaxError || e instanceof RangeError) throw new InvalidArgumentError(hint);
      throw e;
    }
  };
}

/** A whole number in [min, max]. */
export function intArg(min: number, max = Number.MAX_SAFE_INTEGER): (v: string) => number {
  return (v: string) => {
    const n = /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `${min}..${max}`;
      throw new InvalidArgumentError(`expected a whole number ${range}.`);
    }
    return n;
  };
}

/** A size with an optional unit; a plain number counts `bareUnit` bytes. Returns bytes / `bareUnit`. */
export function sizeArg(bareUnit = 1): (v: string) => number {
  const hint =
    bareUnit === 1 ? `expected a size, ${SIZE_EXAMPLES}.` : 'expected a size, e.g. 256MB, 1GiB, or a number of MB.';
  return wrap((v) => {
    const bytes = parseSize(v, 'size', bareUnit);
    if (bytes <= 0) throw new SizeSyntaxError('must be positive');
    return bytes / bareUnit;
  }, hint);
}

/**
 * A per-second limit: a size (bytes) or count (rows); off/none/unlimited/0 mean no limit and
 * give 0 (commander turns a parsed null into ''), which task validation reads as no limit.
 */
export function rateArg(kind: 'bytes' | 'rows'): (v: string) => number {
  const hint =
    kind === 'bytes'
      ? `expected bytes per second, ${SIZE_EXAMPLES}, or "off".`
      : 'expected rows per second, e.g. 20000 or 20k, or "off".';
  return wrap((v) => parseRate(v, 'rate', kind) ?? 0, hint);
}

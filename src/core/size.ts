/**
 * The one parser for sizes, row counts and rates given by users — in flags, task files and
 * `pgferry throttle` alike — and the one formatter for byte counts in output.
 *
 * Units follow PostgreSQL (postgresql.conf, pg_size_pretty): B, kB, MB, GB, TB are multiples
 * of 1024; the IEC spellings KiB, MiB, GiB, TiB are accepted as the same values. Letters are
 * case-insensitive (`50mb`, `1gib`). Counts (rows) take k and M as thousands and millions.
 */

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
};

const COUNT_UNITS: Record<string, number> = { k: 1e3, m: 1e6, g: 1e9 };

const NUMBER = /^(\d+(?:\.\d+)?|\.\d+)\s*([a-z]*)$/;
const OFF = new Set(['off', 'none', 'unlimited', '0']);

export const SIZE_EXAMPLES = 'e.g. 500kB, 50MB, 1GiB or a number of bytes';

/** Why a size or count could not be read; the caller names the flag or field. */
export class SizeSyntaxError extends Error {}

function parseWith(input: string | number, units: Record<string, number>, bareUnit: number, what: string): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) throw new SizeSyntaxError(`${what}: expected a non-negative number`);
    return input * bareUnit;
  }
  const m = NUMBER.exec(input.trim().toLowerCase());
  const unit = m ? (m[2] === '' ? bareUnit : units[m[2]]) : undefined;
  if (!m || unit === undefined) throw new SizeSyntaxError(`${what}: cannot read ${JSON.stringify(input)}`);
  return Number(m[1]) * unit;
}

/**
 * Bytes given as a number or a string with a unit. `bareUnit` is what a plain number means
 * (1 for bytes; 1024² for settings named in MB).
 */
export function parseSize(input: string | number, what: string, bareUnit = 1): number {
  return Math.round(parseWith(input, SIZE_UNITS, bareUnit, what));
}

/** A count such as 20000, 20k or 1.5M. */
export function parseCount(input: string | number, what: string): number {
  return Math.round(parseWith(input, COUNT_UNITS, 1, what));
}

/** A per-second limit: "off", "none", "unlimited" or 0 mean no limit (null); "/s" may follow. */
export function parseRate(input: string | number, what: string, kind: 'bytes' | 'rows'): number | null {
  const text = typeof input === 'number' ? String(input) : input.trim().replace(/\s*\/\s*s(ec)?$/i, '');
  if (OFF.has(text.toLowerCase())) return null;
  const v = kind === 'bytes' ? parseSize(text, what) : parseCount(text, what);
  return v === 0 ? null : v;
}

/** Bytes for people, in the same units the parser reads: 1023 B, 1.5 kB, 20.0 MB, 1.2 GB. */
export function fmtBytes(b: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = b;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

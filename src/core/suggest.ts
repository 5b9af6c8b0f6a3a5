/**
 * Near matches for what a user typed: names a selection did not find (the same name in another
 * letter case — an unquoted name folds to lower case — or a name a few edits away), and
 * "did you mean …?" for misspelt task-file keys.
 */

/**
 * Edit distance: Levenshtein, or with `swaps` the optimal string alignment distance (a swap of two
 * neighbouring letters counts as one edit). Stops early once the distance exceeds `max`.
 */
export function editDistance(a: string, b: string, max = Infinity, swaps = false): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      let v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (swaps && i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prev2[j - 2] + 1);
      cur.push(v);
      if (v < best) best = v;
    }
    if (best > max) return max + 1;
    prev2 = prev;
    prev = cur;
  }
  return prev[b.length];
}

/**
 * Candidates closest to `wanted`: those equal but for letter case if there are any, else those
 * at most 2 edits away (a quarter of its length).
 */
export function nearMatches(wanted: string, candidates: Iterable<string>, limit = 3): string[] {
  const lower = wanted.toLowerCase();
  const max = Math.max(1, Math.min(2, Math.floor(wanted.length / 4)));
  const scored: { c: string; d: number }[] = [];
  for (const c of new Set(candidates)) {
    if (c === wanted) continue;
    const d = c.toLowerCase() === lower ? 0 : editDistance(lower, c.toLowerCase(), max);
    if (d <= max) scored.push({ c, d });
  }
  scored.sort((x, y) => x.d - y.d || x.c.localeCompare(y.c));
  const best = scored.length && scored[0].d === 0 ? scored.filter((x) => x.d === 0) : scored;
  return best.slice(0, limit).map((x) => x.c);
}

/** Near matches of a name given as parts (schema, table…), compared unquoted and shown by `show`. */
export function nearNames(wanted: string[], candidates: string[][], show: (parts: string[]) => string): string[] {
  const byRaw = new Map(candidates.map((c) => [c.join('.'), show(c)]));
  return nearMatches(wanted.join('.'), byRaw.keys()).map((raw) => byRaw.get(raw)!);
}

const norm = (s: string) => s.toLowerCase().replace(/[_-]/g, '');

/** The known key closest to `key`, when it is close enough to be a typo. */
export function suggestKey(key: string, known: readonly string[]): string | undefined {
  const k = norm(key);
  let best: { key: string; dist: number } | undefined;
  for (const candidate of known) {
    const dist = editDistance(k, norm(candidate), Infinity, true);
    if (!best || dist < best.dist) best = { key: candidate, dist };
  }
  if (!best) return undefined;
  const limit = Math.max(1, Math.min(3, Math.floor(Math.max(k.length, best.key.length) / 3)));
  return best.dist <= limit ? best.key : undefined;
}

interface Unwrappable {
  shape?: Record<string, unknown>;
  unwrap?: () => unknown;
  valueType?: unknown;
  _def?: { innerType?: unknown; valueType?: unknown; in?: unknown };
}

function unwrap(s: unknown): Unwrappable | undefined {
  let cur = s as Unwrappable | undefined;
  for (let i = 0; cur && !cur.shape && i < 10; i++) {
    const next = cur.unwrap?.() ?? cur._def?.innerType ?? cur._def?.in;
    if (!next) break;
    cur = next as Unwrappable;
  }
  return cur;
}

/** The keys a (zod) object schema accepts at `path`: records are stepped through by any key. */
export function keysAt(schema: unknown, path: readonly (string | number)[]): string[] {
  let cur = unwrap(schema);
  for (const k of path) {
    if (!cur) return [];
    const next: unknown = cur.shape ? cur.shape[String(k)] : (cur.valueType ?? cur._def?.valueType);
    cur = unwrap(next);
  }
  return cur?.shape ? Object.keys(cur.shape) : [];
}

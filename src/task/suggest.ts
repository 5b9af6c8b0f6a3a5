/**
 * "Did you mean …?" for misspelt task-file keys: the closest known key by edit distance
 * (a swap of two neighbouring letters counts as one edit), ignoring case, "_" and "-".
 */

const norm = (s: string) => s.toLowerCase().replace(/[_-]/g, '');

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      const swapped = i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1];
      if (swapped) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The known key closest to `key`, when it is close enough to be a typo. */
export function suggestKey(key: string, known: readonly string[]): string | undefined {
  const k = norm(key);
  let best: { key: string; dist: number } | undefined;
  for (const candidate of known) {
    const dist = editDistance(k, norm(candidate));
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

/**
 * Near matches for names a selection did not find: the same name in another letter case
 * (an unquoted name folds to lower case), or a name a few edits away.
 */

/** Levenshtein distance, stopping early once it exceeds `max`. */
export function editDistance(a: string, b: string, max = Infinity): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      if (v < best) best = v;
    }
    if (best > max) return max + 1;
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

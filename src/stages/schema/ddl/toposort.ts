/**
 * Stable topological sort: rounds of ready nodes, each round in (rank, name) order, so that the
 * output is deterministic and close to pg_dump's. Cycles are broken in rank order and reported.
 */
export interface SortNode {
  id: string;
  rank: number;
  stmt: { name: string };
}

export function topoSort<T extends SortNode>(
  nodes: T[],
  deps: Map<string, Set<string>>,
  onCycle: (names: string[]) => void,
): T[] {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const waiting = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const n of nodes) {
    let count = 0;
    for (const d of deps.get(n.id) ?? []) {
      if (!byId.has(d) || d === n.id) continue;
      count++;
      if (!dependents.has(d)) dependents.set(d, []);
      dependents.get(d)!.push(n.id);
    }
    waiting.set(n.id, count);
  }
  const cmp = (a: T, b: T) => a.rank - b.rank || (a.stmt.name < b.stmt.name ? -1 : a.stmt.name > b.stmt.name ? 1 : 0);
  const out: T[] = [];
  const done = new Set<string>();
  let ready = nodes.filter((n) => waiting.get(n.id) === 0);
  while (out.length < nodes.length) {
    if (ready.length === 0) {
      // cycle: take the lowest-ranked remaining node
      const rest = nodes.filter((n) => !done.has(n.id)).sort(cmp);
      onCycle(rest.slice(0, 5).map((n) => n.stmt.name));
      ready = [rest[0]];
    }
    ready.sort(cmp);
    const next: T[] = [];
    for (const n of ready) {
      if (done.has(n.id)) continue;
      done.add(n.id);
      out.push(n);
      for (const d of dependents.get(n.id) ?? []) {
        const w = waiting.get(d)! - 1;
        waiting.set(d, w);
        if (w === 0 && !done.has(d)) next.push(byId.get(d)!);
      }
    }
    ready = next;
  }
  return out;
}

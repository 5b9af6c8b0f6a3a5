/**
 * Views that cannot be created in one step, created first as a placeholder — a view with the
 * same column names, types and collations selecting NULLs — that the real definition replaces
 * (CREATE OR REPLACE VIEW) once what it reads exists:
 *  - a view in a dependency cycle (CREATE OR REPLACE VIEW made v1 read v2 while v2 reads v1) or
 *    reading itself: one placeholder per cycle breaks it;
 *  - a view valid only through a table's key (it groups by the primary key and selects other
 *    columns: pg_depend ties its rule to the constraint). Keys are built after the data, so its
 *    real definition goes to the late section.
 * Everything that depends on such a view is created against its placeholder.
 */
import type { ViewObj } from '../catalog/model.js';
import { quoteIdent } from '../../../core/ident.js';

export const placeholderId = (viewId: string) => `placeholder:${viewId}`;

export interface PlaceholderPlan {
  /** View ids created first as placeholders. */
  placeholders: Set<string>;
  /** View ids whose real definition waits for a key constraint (late section). */
  late: Set<string>;
}

/**
 * Decide the placeholders and rewrite `deps` (node id → ids it depends on) in place: dependents
 * of a placeholder view wait for the placeholder only; the real view waits for its placeholder.
 */
type Deps = Map<string, Set<string>>;

/** Does the node depend on a table's key constraint (pg_depend on pg_constraint)? */
const needsKey = (deps: Deps, id: string) => [...(deps.get(id) ?? [])].some((d) => d.startsWith('con:'));

export function planPlaceholders(views: ViewObj[], deps: Deps, present: Set<string>): PlaceholderPlan {
  const plain = views.filter((v) => v.relkind === 'v' && present.has(v.id));
  const late = new Set(plain.filter((v) => needsKey(deps, v.id)).map((v) => v.id));
  const placeholders = new Set([...late, ...plain.filter((v) => v.selfRef).map((v) => v.id)]);
  for (const id of placeholders) redirect(deps, id);
  const viewIds = new Set(plain.map((v) => v.id));
  const byName = new Map(plain.map((v) => [v.id, `${v.schema}.${v.name}`]));
  for (let round = 0; round < plain.length; round++) {
    const cyclic = cycles(deps, present)
      .map((scc) => scc.filter((id) => viewIds.has(id) && !placeholders.has(id)))
      .filter((x) => x.length);
    if (!cyclic.length) break;
    for (const scc of cyclic) {
      const pick = scc.sort((a, b) => (byName.get(a)! < byName.get(b)! ? -1 : 1))[0];
      placeholders.add(pick);
      redirect(deps, pick);
    }
  }
  return { placeholders, late };
}

function redirect(deps: Deps, viewId: string): void {
  const ph = placeholderId(viewId);
  for (const [from, set] of deps) {
    if (from !== viewId && set.delete(viewId)) set.add(ph);
  }
  const own = deps.get(viewId) ?? new Set<string>();
  own.add(ph);
  deps.set(viewId, own);
  // the placeholder needs what the view's columns need (schema, types, collations), not what its query reads
  deps.set(ph, new Set([...own].filter((d) => /^(schema|type|coll|ext|shell):/.test(d))));
}

/** Strongly connected components with more than one node (Tarjan, iterative). */
function cycles(deps: Deps, present: Set<string>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  let next = 0;
  const edges = (id: string) => [...(deps.get(id) ?? [])].filter((d) => present.has(d));
  for (const root of present) {
    if (index.has(root)) continue;
    const work: { id: string; it: Iterator<string> }[] = [];
    const open = (id: string) => {
      index.set(id, next);
      low.set(id, next);
      next++;
      stack.push(id);
      onStack.add(id);
      work.push({ id, it: edges(id)[Symbol.iterator]() });
    };
    open(root);
    while (work.length) {
      const top = work[work.length - 1];
      const n = top.it.next();
      if (!n.done) {
        const w = n.value;
        if (!index.has(w)) open(w);
        else if (onStack.has(w)) low.set(top.id, Math.min(low.get(top.id)!, index.get(w)!));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.id, Math.min(low.get(parent.id)!, low.get(top.id)!));
      if (low.get(top.id) === index.get(top.id)) {
        const scc: string[] = [];
        let x: string;
        do {
          x = stack.pop()!;
          onStack.delete(x);
          scc.push(x);
        } while (x !== top.id);
        if (scc.length > 1) out.push(scc);
      }
    }
  }
  return out;
}

/** CREATE VIEW name AS SELECT NULL::type AS col, … (collations as the real view's columns). */
export function placeholderSql(
  name: string,
  v: ViewObj,
  type: (t: string) => string,
  coll: (c: [string, string]) => string,
): string {
  const collate = (c: string[] | null) => (c ? ` COLLATE ${coll(c as [string, string])}` : '');
  const cols = v.columns.map((c) => `    NULL::${type(c.type)}${collate(c.collation)} AS ${quoteIdent(c.name)}`);
  return `CREATE VIEW ${name} AS\nSELECT${cols.length ? `\n${cols.join(',\n')}` : ''};`;
}

/**
 * Other objects that need a key — materialized views valid only through it (there is no CREATE OR
 * REPLACE MATERIALIZED VIEW), rules and functions naming it (ON CONFLICT ON CONSTRAINT) — are created
 * in the late section with whatever depends on them. Returns the ids to move, in `ordered`
 * (dependency) order; tables never move (their rows need them), nor views that have a placeholder.
 */
export function lateClosure(
  ordered: { id: string; stmt: { kind: string } }[],
  deps: Deps,
  placeholders: Set<string>,
): Set<string> {
  const moved = new Set<string>();
  for (const p of ordered) {
    const seed = !placeholders.has(p.id) && needsKey(deps, p.id);
    const follows = [...(deps.get(p.id) ?? [])].some((d) => moved.has(d));
    if ((seed || follows) && p.stmt.kind !== 'table') moved.add(p.id);
  }
  return moved;
}

/**
 * Base types are made in steps: a shell type (CREATE TYPE t;), its I/O functions (which take or
 * return the shell), then the full type (which names the functions). pg_depend records both
 * directions (type → function, function → type); the edges of the type's own support functions
 * are pointed at the shell node `shell:<oid>`, so the order is shell → I/O functions → full type →
 * everything else that uses the type (other functions, casts, tables).
 */
import type { Acl, BaseTypeInfo, Dependency, TypeObj } from './model.js';

type Row = Record<string, any>;

export function baseTypeOf(r: Row, acl: Acl[] | null): TypeObj {
  const base: BaseTypeInfo = {
    funcs: r.funcs,
    length: r.length,
    byValue: r.by_value,
    align: r.align,
    storage: r.storage,
    category: r.category,
    preferred: r.preferred,
    default: r.default_value,
    element: r.element,
    delimiter: r.delimiter,
    collatable: r.collatable,
  };
  return {
    id: `type:${r.oid}`,
    oid: r.oid,
    schema: r.schema,
    name: r.name,
    owner: r.owner,
    comment: r.comment,
    acl,
    kind: 'base',
    base,
  };
}

export const shellId = (t: { oid: string }) => `shell:${t.oid}`;

/** The graph ids of a base type's support functions. */
export function supportFuncIds(t: TypeObj): string[] {
  return t.base
    ? Object.values(t.base.funcs)
        .map((f) => f.id)
        .filter((x): x is string => x !== null)
    : [];
}

/** Dependencies with each support function's edge to its own base type redirected to the type's shell. */
export function shellEdges(deps: Dependency[], types: TypeObj[]): Dependency[] {
  const shellOf = new Map<string, string>();
  for (const t of types) for (const f of supportFuncIds(t)) shellOf.set(`${f}>${t.id}`, shellId(t));
  return deps.map((d) => {
    const s = shellOf.get(`${d.from}>${d.to}`);
    return s ? { from: d.from, to: s } : d;
  });
}

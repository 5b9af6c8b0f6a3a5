/**
 * Indexes and the constraints built on one (PRIMARY KEY, UNIQUE, EXCLUDE):
 *  - of a leaf table: early, after the table's data (PK/UNIQUE as CREATE UNIQUE INDEX + ADD CONSTRAINT
 *    … USING INDEX, attached to the parent's index with ALTER INDEX … ATTACH PARTITION);
 *  - of a partitioned table: pre, parents before children (ON ONLY: cheap, no data);
 *  - of a materialized view: late, after its refresh (./matviews.ts).
 */
import { qualify, quoteIdent } from '../../../../core/ident.js';
import { tableKey } from '../../../../core/selection.js';
import type { IndexObj, TableObj, ViewObj } from '../../catalog/model.js';
import type { Statement } from '../../../../core/statement.js';
import type { DdlContext } from '../context.js';
import { usesColumn } from '../util.js';
import { indexPartKey } from '../../../../state/keys.js';

export interface IndexStatements {
  /** Indexes of partitioned tables (pre section), parents first. */
  parted: Statement[];
  /** Indexes of materialized views by view id (late section, after the refresh). */
  mviewIdx: Map<string, Statement[]>;
}

/** Index statements of created tables and views; a leaf table's go to ctx.early. */
export function indexes(ctx: DdlContext, keptIds: Set<string>): IndexStatements {
  const parted: { depth: number; stmt: Statement }[] = [];
  const mviewIdx = new Map<string, Statement[]>();
  const indexByName = new Map(ctx.m.indexes.map((x) => [`${x.schema}\u0000${x.name}`, x]));
  for (const ix of ctx.m.indexes) {
    const t = ctx.selTables.get(ix.tableId);
    const v = ctx.viewsById.get(ix.tableId);
    if (!(t && keptIds.has(t.id)) && !(v && keptIds.has(v.id))) continue;
    if (!usable(ctx, ix, t)) continue;
    const parts = indexParts(
      ctx,
      ix,
      t,
      v,
      (pix) => ctx.selTables.has(pix.tableId) && keptIds.has(pix.tableId),
      indexByName,
    );
    if (v) {
      const list = mviewIdx.get(v.id) ?? [];
      list.push({ ...whole(parts), section: 'late' });
      mviewIdx.set(v.id, list);
    } else if (t!.relkind === 'p') {
      parted.push({ depth: depthOf(ctx, t!), stmt: { ...whole(parts), section: 'pre' } });
    } else {
      ctx.early.push(...steps(parts, tableKey(t!.schema, t!.name)).map(ctx.compact.statement));
    }
  }
  // Parents' indexes before the leaves' (they ATTACH to them); PK/UNIQUE before other indexes of the table.
  parted.sort((a, b) => a.depth - b.depth);
  ctx.early.sort((a, b) =>
    a.table! < b.table!
      ? -1
      : a.table! > b.table!
        ? 1
        : (a.kind === 'constraint' ? 0 : 1) - (b.kind === 'constraint' ? 0 : 1),
  );
  return { parted: parted.map((x) => x.stmt), mviewIdx };
}

/** Not created (and reported): indexes using a left-out column, and indexes invalid on the source. */
function usable(ctx: DdlContext, ix: IndexObj, t: TableObj | undefined): boolean {
  const subset = t && ctx.sel.columnSubset(t.schema, t.name);
  if (
    (subset && ix.columns.some((a) => a > 0 && !subset.includes(t!.columns.find((c) => c.num === a)?.name ?? ''))) ||
    (t && ix.columns.some((a) => a === 0) && usesColumn([ix.def], ctx.omitted(t.id)))
  ) {
    ctx.notMigrated.push({
      kind: ix.constraint ? 'constraint' : 'index',
      name: `${ctx.q(ix.schema, ix.name)}`,
      reason: 'uses a column left out by the column subset',
    });
    return false;
  }
  if (!ix.isValid && t?.relkind !== 'p') {
    ctx.notMigrated.push({
      kind: 'index',
      name: ctx.q(ix.schema, ix.name),
      reason: 'index is invalid on the source (failed CREATE INDEX CONCURRENTLY?)',
    });
    return false;
  }
  return true;
}

/** An index's statement in parts: the build (CREATE INDEX, absent for ADD CONSTRAINT … EXCLUDE and the
 * like) and what follows it (ADD CONSTRAINT … USING INDEX, comments, ATTACH PARTITION, CLUSTER ON). */
interface IndexParts {
  key: string;
  kind: string;
  name: string;
  drop: string;
  build: string | null;
  rest: string;
  /** `rest` adds a constraint or attaches the index (ACCESS EXCLUSIVE), not only comments and CLUSTER ON. */
  attaches: boolean;
  /** The index has expression columns (see Statement.expressions). */
  expressions: boolean;
  /** Its access method when not btree (see Statement.method). */
  method?: string;
}

/** One statement (pre and late sections: applied as a block). */
function whole(p: IndexParts): StatementBody {
  const sql = p.build === null ? p.rest : p.rest ? `${p.build}\n${p.rest}` : p.build;
  return { key: p.key, kind: p.kind, name: p.name, sql, drop: p.drop };
}

/**
 * Early steps: the build, which runs side by side with the table's other builds, then what attaches
 * it, alone. Keys as checkpoints have always recorded them: the build alone keeps the object's key;
 * split, the build is `indexPartKey(key)` and the attachment the object's key.
 */
function steps(p: IndexParts, table: string): Statement[] {
  const base = { kind: p.kind, name: p.name, section: 'early' as const, table };
  const restLock = p.attaches ? 'access-exclusive' : 'share-update-exclusive';
  const expr = { ...(p.expressions ? { expressions: true } : {}), ...(p.method ? { method: p.method } : {}) };
  if (p.build === null) return [{ key: p.key, ...base, sql: p.rest, drop: p.drop, lock: 'access-exclusive', ...expr }];
  if (!p.rest) return [{ key: p.key, ...base, sql: p.build, drop: p.drop, lock: 'share', ...expr }];
  return [
    { key: indexPartKey(p.key), ...base, sql: p.build, drop: p.drop, lock: 'share', buildOf: p.key, ...expr },
    { key: p.key, ...base, sql: p.rest, lock: restLock },
  ];
}

type StatementBody = Omit<Statement, 'section'>;

function indexParts(
  ctx: DdlContext,
  ix: IndexObj,
  t: TableObj | undefined,
  v: ViewObj | undefined,
  parentKept: (pix: IndexObj) => boolean,
  indexByName: Map<string, IndexObj>,
): IndexParts {
  const n = t ? ctx.tq(t) : ctx.q(v!.schema, v!.name);
  const what = `index ${ix.name} on ${n}`;
  const cm = ctx.colMaps.get(ix.tableId);
  const iq = ctx.q(ix.schema, ix.name);
  const c = ix.constraint;
  let build: string | null = `${ctx.rw(ix.def, what, cm)};`;
  let rest = '';
  if (c) {
    const usingIndex =
      t?.relkind !== 'p' && c.type !== 'x' && !c.deferrable && !/ INCLUDE \(/.test(ix.def) && t !== undefined;
    if (usingIndex) {
      rest = `ALTER TABLE ONLY ${n} ADD CONSTRAINT ${quoteIdent(c.name)} ${c.type === 'p' ? 'PRIMARY KEY' : 'UNIQUE'} USING INDEX ${quoteIdent(ix.name)};`;
    } else {
      build = null;
      rest = `ALTER TABLE ONLY ${n} ADD CONSTRAINT ${quoteIdent(c.name)} ${ctx.rw(c.def, what, cm)};`;
    }
    rest += ctx.comment(`CONSTRAINT ${quoteIdent(c.name)} ON ${n}`, c.comment);
  }
  rest += ctx.comment(`INDEX ${iq}`, ix.comment);
  let attaches = Boolean(c);
  if (ix.parentIndex && t) {
    const pix = indexByName.get(`${ix.parentIndex.schema}\u0000${ix.parentIndex.name}`);
    if (pix && parentKept(pix)) {
      rest += `\nALTER INDEX ${ctx.q(ix.parentIndex.schema, ix.parentIndex.name)} ATTACH PARTITION ${iq};`;
      attaches = true;
    }
  }
  if (ix.clustered) rest += `\nALTER TABLE ${n} CLUSTER ON ${quoteIdent(ix.name)};`;
  const kind = c ? 'constraint' : 'index';
  const drop = c
    ? `ALTER TABLE IF EXISTS ${n} DROP CONSTRAINT IF EXISTS ${quoteIdent(c.name)} CASCADE;`
    : `DROP INDEX IF EXISTS ${iq} CASCADE;`;
  return {
    key: `${kind} ${qualify(ix.schema, ix.name)}`,
    kind,
    name: iq,
    drop,
    build,
    rest: rest.replace(/^\n/, ''),
    attaches,
    expressions: ix.columns.includes(0),
    ...accessMethod(ix.def),
  };
}

/** The access method of an index definition (pg_get_indexdef: `… ON table USING method (…)`), when not btree. */
function accessMethod(def: string): { method?: string } {
  const m = / USING (\w+) \(/.exec(def);
  return m && m[1] !== 'btree' ? { method: m[1] } : {};
}

function depthOf(ctx: DdlContext, t: TableObj): number {
  let d = 0;
  for (
    let c = t;
    c.isPartition && c.parents[0] && ctx.tablesById.get(c.parents[0].id);
    c = ctx.tablesById.get(c.parents[0].id)!
  )
    d++;
  return d;
}

/**
 * Object inventory of the selected (source) and mapped (target) schemas: counts per kind,
 * names present on one side only, and sequence states. Extension members and pgferry's own
 * checkpoint schemas are left out. When tables are filtered, table-bound objects (indexes, constraints,
 * triggers, owned sequences) of unselected tables are left out on both sides.
 */
import type pg from 'pg';
import type { Selection } from '../../core/selection.js';
import { isSystemSchema } from '../../core/selection.js';
import { qualify, quoteIdent } from '../../core/ident.js';
import { flat } from '../../core/flat.js';
import { Interner } from '../../core/intern.js';
import type { ObjectVerify, SequenceState, SequenceVerify } from './types.js';
import { PARTITION_ROOT_JOIN } from '../schema/catalog/sql/common.js';
import { isPgError } from '../../core/errors.js';
import { isStateSchemaSql } from '../../state/checkpoint.js';
import type { ObjectFilter } from '../schema/ddl/closure.js';

const INVENTORY_SQL = `
WITH tabs AS (
  SELECT c.oid, n.nspname AS schema, c.relname AS name, root.nspname AS root_schema, root.relname AS root_name
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  ${PARTITION_ROOT_JOIN}
  WHERE c.relkind IN ('r', 'p', 'f')
),
ext AS (SELECT classid, objid FROM pg_depend WHERE deptype = 'e'),
objs AS (
  SELECT CASE c.relkind WHEN 'r' THEN 'tables' WHEN 'p' THEN 'tables' WHEN 'f' THEN 'foreign tables' WHEN 'v' THEN 'views'
                        WHEN 'm' THEN 'matviews' WHEN 'S' THEN 'sequences' ELSE 'indexes' END AS kind,
         n.nspname AS schema, c.relname::text AS name,
         CASE WHEN c.relkind IN ('r', 'p', 'f') THEN c.oid
              WHEN c.relkind IN ('i', 'I') THEN (SELECT indrelid FROM pg_index WHERE indexrelid = c.oid)
              WHEN c.relkind = 'S' THEN (SELECT refobjid FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                                           AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') LIMIT 1)
         END AS owner
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S', 'i', 'I')
    AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid)
  UNION ALL
  SELECT 'constraints:' || CASE con.contype WHEN 'p' THEN 'primary key' WHEN 'u' THEN 'unique' WHEN 'f' THEN 'foreign key'
                                            WHEN 'c' THEN 'check' WHEN 'x' THEN 'exclusion' WHEN 't' THEN 'trigger' ELSE con.contype::text END
                     -- a constraint not validated is another kind: one NOT VALID does not stand for a validated one
                     || CASE WHEN con.convalidated THEN '' ELSE ' (not valid)' END,
         n.nspname, coalesce((SELECT t.typname::text || '.' FROM pg_type t WHERE t.oid = con.contypid), '') || con.conname::text,
         nullif(con.conrelid, 0)
  FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace
  WHERE con.contype <> 'n'
    AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_type'::regclass AND ext.objid = con.contypid)
    AND NOT EXISTS (SELECT 1 FROM ext JOIN pg_class ec ON ext.classid = 'pg_class'::regclass AND ext.objid = ec.oid WHERE ec.oid = con.conrelid)
  UNION ALL
  SELECT 'functions', n.nspname, p.proname::text || '(' || pg_get_function_identity_arguments(p.oid) || ')', NULL
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
  WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_proc'::regclass AND ext.objid = p.oid)
  UNION ALL
  SELECT 'triggers', n.nspname, tg.tgname::text, tg.tgrelid
  FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE NOT tg.tgisinternal
    AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid)
  UNION ALL
  SELECT 'types', n.nspname, t.typname::text, NULL
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
  WHERE (t.typtype IN ('d', 'e', 'r') OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
    AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_type'::regclass AND ext.objid = t.oid)
)
SELECT o.kind, o.schema, o.name, t.schema AS t_schema, t.name AS t_name, t.root_schema, t.root_name
FROM objs o LEFT JOIN tabs t ON t.oid = o.owner
WHERE o.schema NOT IN ('pg_catalog', 'information_schema')
  AND o.schema NOT IN (SELECT n.nspname FROM pg_namespace n WHERE ${isStateSchemaSql('n.oid')})
  AND o.schema NOT LIKE 'pg_toast%' AND o.schema NOT LIKE 'pg_temp_%'`;

interface InvRow {
  kind: string;
  schema: string;
  name: string;
  t_schema: string | null;
  t_name: string | null;
  root_schema: string | null;
  root_name: string | null;
}

export interface InventoryItem {
  kind: string;
  /** Identity in target naming: schema.name; schema.table.name for constraints/triggers; "schema.index on schema.table" for indexes. */
  id: string;
  schema: string;
  name: string;
}

function sourceTableSelected(sel: Selection, r: InvRow): boolean {
  if (r.t_schema === null || r.t_name === null) return true;
  if (sel.tableSelected(r.t_schema, r.t_name)) return true;
  return (
    r.root_schema !== null &&
    r.root_name !== null &&
    sel.tableSelected(r.root_schema, r.root_name) &&
    sel.schemaSelected(r.t_schema)
  );
}

function tableBound(kind: string): boolean {
  return kind.startsWith('constraints:') || kind === 'triggers';
}

/**
 * Source inventory, named as the objects are named on the target. Ids are kept flat and kinds and
 * schemas once (see core/flat.ts): at 20,000 tables an inventory holds about 80,000 objects.
 * Also returns the selected tables' target names.
 */
export async function sourceInventory(
  c: pg.Client,
  sel: Selection,
  keep: ObjectFilter = () => true,
): Promise<{ items: InventoryItem[]; targetTables: Set<string> }> {
  const r = await c.query<InvRow>(INVENTORY_SQL);
  const items: InventoryItem[] = [];
  const targetTables = new Set<string>();
  const t = new Interner();
  for (const row of r.rows) {
    if (!sel.schemaSelected(row.schema)) continue;
    if (!sourceTableSelected(sel, row)) continue;
    if (!keep(row.kind, row.schema, row.name)) continue;
    if (row.kind === 'triggers' && row.t_schema !== null && sel.triggerExcluded(row.t_schema, row.t_name!, row.name)) {
      continue;
    }
    const schema = sel.targetSchema(row.schema);
    let name = row.name;
    if (row.kind === 'tables' || row.kind === 'foreign tables') {
      name = sel.targetTable(row.schema, row.name).name;
      targetTables.add(qualify(schema, name));
    }
    let id = qualify(schema, name);
    if (tableBound(row.kind) && row.t_schema !== null && row.t_name !== null) {
      const tt = sel.targetTable(row.t_schema, row.t_name);
      id = `${qualify(tt.schema, tt.name)}.${quoteIdent(row.name)}`;
    } else if (row.kind === 'indexes' && row.t_schema !== null && row.t_name !== null) {
      const tt = sel.targetTable(row.t_schema, row.t_name);
      id = `${id} on ${qualify(tt.schema, tt.name)}`;
    } else if (row.kind === 'functions' || row.kind.startsWith('constraints:')) {
      id = `${quoteIdent(schema)}.${row.name}`;
    }
    items.push({ kind: t.text(row.kind), id: flat(id), schema: t.text(schema), name });
  }
  return { items, targetTables };
}

/** Target inventory in the given (mapped) schemas; table-bound objects only of the given tables when `tables` is set. */
export async function targetInventory(
  c: pg.Client,
  schemas: Set<string>,
  tables: Set<string> | undefined,
  keep: ObjectFilter = () => true,
): Promise<InventoryItem[]> {
  const r = await c.query<InvRow>(INVENTORY_SQL);
  const items: InventoryItem[] = [];
  const t = new Interner();
  for (const row of r.rows) {
    if (!schemas.has(row.schema) || isSystemSchema(row.schema) || !keep(row.kind, row.schema, row.name)) continue;
    if (tables && row.t_schema !== null && row.t_name !== null && !tables.has(qualify(row.t_schema, row.t_name)))
      continue;
    let id = qualify(row.schema, row.name);
    if (tableBound(row.kind) && row.t_schema !== null && row.t_name !== null) {
      id = `${qualify(row.t_schema, row.t_name)}.${quoteIdent(row.name)}`;
    } else if (row.kind === 'indexes' && row.t_schema !== null && row.t_name !== null) {
      id = `${id} on ${qualify(row.t_schema, row.t_name)}`;
    } else if (row.kind === 'functions' || row.kind.startsWith('constraints:')) {
      id = `${quoteIdent(row.schema)}.${row.name}`;
    }
    items.push({ kind: t.text(row.kind), id: flat(id), schema: t.text(row.schema), name: row.name });
  }
  return items;
}

const KIND_ORDER = [
  'tables',
  'foreign tables',
  'views',
  'matviews',
  'indexes',
  'constraints:primary key',
  'constraints:unique',
  'constraints:foreign key',
  'constraints:foreign key (not valid)',
  'constraints:check',
  'constraints:check (not valid)',
  'constraints:exclusion',
  'constraints:trigger',
  'sequences',
  'functions',
  'triggers',
  'types',
];

export function compareInventories(src: InventoryItem[], tgt: InventoryItem[]): ObjectVerify[] {
  const kinds = new Set<string>([
    'tables',
    'views',
    'matviews',
    'indexes',
    'sequences',
    'functions',
    'triggers',
    'types',
  ]);
  for (const i of [...src, ...tgt]) kinds.add(i.kind);
  const ordered = [...kinds].sort((a, b) => {
    const ia = KIND_ORDER.indexOf(a);
    const ib = KIND_ORDER.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
  });
  return ordered.map((kind) => {
    const s = src.filter((i) => i.kind === kind).map((i) => i.id);
    const t = tgt.filter((i) => i.kind === kind).map((i) => i.id);
    const ts = new Set(t);
    const ss = new Set(s);
    const missing = s.filter((x) => !ts.has(x)).sort();
    const extra = t.filter((x) => !ss.has(x)).sort();
    return {
      kind,
      sourceCount: s.length,
      targetCount: t.length,
      ok: s.length === t.length,
      missing: missing.slice(0, 50),
      extra: extra.slice(0, 50),
    };
  });
}

async function seqState(c: pg.Client, rel: string): Promise<SequenceState | null> {
  try {
    const r = await c.query<{ last_value: string; is_called: boolean }>(
      `SELECT last_value::text AS last_value, is_called FROM ${rel}`,
    );
    return { lastValue: r.rows[0].last_value, isCalled: r.rows[0].is_called };
  } catch (e) {
    // a missing sequence is a difference; a lost connection is retried by the caller
    if (isPgError(e) && (e.code === '42P01' || e.code === '42703')) return null;
    throw e;
  }
}

/** Compare last_value/is_called of the source's selected sequences with their target counterparts. */
export async function compareSequences(
  source: pg.Client,
  target: pg.Client,
  srcItems: InventoryItem[],
  sel: Selection,
): Promise<SequenceVerify[]> {
  // srcItems carry target naming; recover the source schema through the inverse schema map.
  const inverse = new Map<string, string>();
  for (const [from, to] of Object.entries(sel.task.mapSchemas)) inverse.set(to, from);
  const out: SequenceVerify[] = [];
  for (const i of srcItems.filter((x) => x.kind === 'sequences').sort((a, b) => a.id.localeCompare(b.id))) {
    const srcSchema = inverse.get(i.schema) ?? i.schema;
    const key = qualify(srcSchema, i.name);
    const [a, b] = await Promise.all([seqState(source, key), seqState(target, i.id)]);
    const ok = a !== null && b !== null && a.lastValue === b.lastValue && a.isCalled === b.isCalled;
    out.push({ key, target: i.id, source: a, targetState: b, ok });
  }
  return out;
}

/**
 * The report's account of the whole task, over every run: totals from the target's checkpoints
 * (when readable; otherwise this run's events, and the report says so), and the selection the
 * task ran with — schema and table filters, row filters, column subsets and renames.
 */
import { plural } from '../../core/plural.js';
import { fmtBytes } from '../../core/size.js';
import type { CheckpointTotals } from './checkpoints.js';

export interface Totals {
  /** Tables whose every unit is done. */
  tables: number;
  /** Tables selected for the copy, when known. */
  tablesSelected: number | null;
  rows: number;
  bytes: number;
  units: number | null;
  largeObjects: number;
  /** Schema objects done (created, or found done by an earlier run). */
  objects: number | null;
  /** Where the numbers come from: the target's checkpoints (every run) or this run's events. */
  from: 'checkpoints' | 'this run';
}

export interface TableSelection {
  table: string;
  where?: string;
  columns?: string[];
  rename?: string;
  columnMap?: Record<string, string>;
}

export interface SelectionReport {
  includeSchemas: string[];
  excludeSchemas: string[];
  includeTables: string[];
  excludeTables: string[];
  mapSchemas: Record<string, string>;
  tables: TableSelection[];
}

type TableOpts = { where?: string; columns?: string[]; rename?: string; columnMap?: Record<string, string> };

/** The selection part of a task config (as task.json records it). */
export function selectionOf(config: Record<string, unknown> | undefined): SelectionReport | null {
  if (!config) return null;
  const list = (k: string) => (Array.isArray(config[k]) ? (config[k] as string[]) : []);
  const tables = Object.entries((config.tables ?? {}) as Record<string, TableOpts>).map(([table, o]) => ({
    table,
    ...(o.where ? { where: o.where } : {}),
    ...(o.columns ? { columns: o.columns } : {}),
    ...(o.rename ? { rename: o.rename } : {}),
    ...(o.columnMap && Object.keys(o.columnMap).length ? { columnMap: o.columnMap } : {}),
  }));
  return {
    includeSchemas: list('includeSchemas'),
    excludeSchemas: list('excludeSchemas'),
    includeTables: list('includeTables'),
    excludeTables: list('excludeTables'),
    mapSchemas: (config.mapSchemas ?? {}) as Record<string, string>,
    tables,
  };
}

export function totalsFrom(
  cp: CheckpointTotals | null | undefined,
  run: { tables: number; rows: number; bytes: number },
): Totals {
  if (!cp) return { ...run, tablesSelected: null, units: null, largeObjects: 0, objects: null, from: 'this run' };
  return {
    tables: cp.tablesDone,
    tablesSelected: cp.tablesSelected,
    rows: cp.rows,
    bytes: cp.bytes,
    units: cp.unitsDone,
    largeObjects: cp.largeObjects,
    objects: cp.objectsDone,
    from: 'checkpoints',
  };
}

/** "3 of 4 tables, 12,000 rows, 1.2 MB in 5 units" */
export function describeTotals(t: Totals): string {
  const tables =
    t.tablesSelected !== null && t.tablesSelected !== t.tables
      ? `${t.tables.toLocaleString('en-US')} of ${plural(t.tablesSelected, 'table')}`
      : plural(t.tables, 'table');
  const units = t.units !== null ? ` in ${plural(t.units, 'unit')}` : '';
  const lo = t.largeObjects ? `, ${plural(t.largeObjects, 'large object')}` : '';
  return `${tables}, ${plural(t.rows, 'row')}, ${fmtBytes(t.bytes)}${units}${lo}`;
}

/** One line per non-default selection setting (empty when the whole database was selected). */
export function selectionLines(s: SelectionReport | null): string[] {
  if (!s) return [];
  const L: string[] = [];
  const add = (label: string, v: string[]) => v.length && L.push(`${label}: ${v.join(', ')}`);
  add('schemas included', s.includeSchemas);
  add('schemas excluded', s.excludeSchemas);
  add('tables included', s.includeTables);
  add('tables excluded', s.excludeTables);
  add(
    'schemas renamed',
    Object.entries(s.mapSchemas).map(([a, b]) => `${a} → ${b}`),
  );
  for (const t of s.tables) {
    const parts: string[] = [];
    if (t.rename) parts.push(`renamed to ${t.rename}`);
    if (t.columns) parts.push(`columns ${t.columns.join(', ')}`);
    const renames = Object.entries(t.columnMap ?? {}).map(([a, b]) => `${a} → ${b}`);
    if (renames.length) parts.push(`columns renamed ${renames.join(', ')}`);
    if (t.where) parts.push(`rows where ${t.where}`);
    if (parts.length) L.push(`table ${t.table}: ${parts.join('; ')}`);
  }
  return L;
}

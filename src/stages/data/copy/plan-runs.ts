/**
 * The tables of a run and their units: units done by earlier runs are counted and skipped, the
 * rest queued in planning order; early statements grouped by table.
 */
import type { Statement } from '../../../core/statement.js';
import { batchSmallUnits, unitsFromBoundaries, type CopyUnit, type TableSize } from '../plan/units.js';
import type { CopyTable } from '../plan/types.js';
import { qualify } from '../../../core/ident.js';
import { tableFormat, type Format, type TextReason } from './format.js';
import { orderUnits, tableWeight } from './queue.js';
import { doneLineage } from './recopy.js';
import type { TableRun } from './types.js';

/** Copied tables per target table: a target shared by several (or none) never gets TRUNCATE. */
export function countTargets(tables: CopyTable[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of tables) {
    const k = qualify(t.target.schema, t.target.name);
    out.set(k, (out.get(k) ?? 0) + 1);
  }
  return out;
}

/** Early statements still to do, by copied table; `orphans` belong to no copied table. */
export function groupEarly(early: Statement[], tables: CopyTable[], doneObj: Set<string>) {
  const byTable = new Map<string, Statement[]>();
  const orphans: Statement[] = [];
  const keys = new Set(tables.map((t) => t.key));
  for (const s of early) {
    if (doneObj.has(s.key)) continue;
    if (s.table && keys.has(s.table)) byTable.set(s.table, [...(byTable.get(s.table) ?? []), s]);
    else orphans.push(s);
  }
  return { byTable, orphans };
}

export interface DoneUnit {
  rows: string | number;
  bytes: string | number;
  snapshot: string | null;
}

export interface RunPlanInput {
  tables: CopyTable[];
  boundaries: Map<string, number[]>;
  sizes: Map<string, TableSize>;
  done: Map<string, DoneUnit>;
  format: Format;
  textOnly: Map<string, TextReason>;
  targetCount: Map<string, number>;
  earlyByTable: Map<string, Statement[]>;
  noFreeze: boolean;
}

export interface RunPlan {
  runs: Map<string, TableRun>;
  /** Units to copy, in planning order. */
  pending: CopyUnit[];
  /** Lineages of the units done by earlier runs. */
  usedLineages: Set<string>;
}

export function planRuns(i: RunPlanInput): RunPlan {
  const runs = new Map<string, TableRun>();
  const pending: CopyUnit[] = [];
  const usedLineages = new Set<string>();
  for (const t of i.tables) {
    const run = newRun(i, t);
    const lineages: (string | null)[] = [];
    for (const u of run.units) {
      const d = i.done.get(u.id);
      if (!d) {
        run.left++;
        pending.push(u);
        continue;
      }
      run.skipped++;
      run.rows += Number(d.rows);
      run.bytes += Number(d.bytes);
      run.doneIds.add(u.id);
      lineages.push(d.snapshot);
      usedLineages.add(d.snapshot ?? '');
    }
    run.lineage = doneLineage(lineages);
    runs.set(t.key, run);
  }
  const weight = (u: CopyUnit) =>
    tableWeight(runs.get(u.table.key)?.size?.bytes ?? 0, i.earlyByTable.get(u.table.key)?.length ?? 0);
  return { runs, pending: batchSmallUnits(orderUnits(pending, weight)), usedLineages };
}

function newRun(i: RunPlanInput, t: CopyTable): TableRun {
  const size = i.sizes.get(t.key);
  const units = unitsFromBoundaries(t, i.boundaries.get(t.key)!, size);
  const sole = i.targetCount.get(qualify(t.target.schema, t.target.name)) === 1;
  const text = i.textOnly.get(t.key);
  return tableRun({
    table: t,
    size,
    units,
    left: 0,
    freezeOk: !i.noFreeze && units.length === 1 && sole,
    format: tableFormat(i.format, text),
    qualifyNames: text?.regNames ?? false,
  });
}

/** A table's run with nothing copied or counted yet: the given fields, every counter at zero. */
export function tableRun(
  o: Pick<TableRun, 'table' | 'units' | 'left' | 'freezeOk' | 'format' | 'qualifyNames'> & Partial<TableRun>,
): TableRun {
  return {
    skipped: 0,
    rows: 0,
    bytes: 0,
    liveRows: 0,
    liveBytes: 0,
    durationMs: 0,
    copiedThisRun: false,
    inflight: 0,
    doneIds: new Set(),
    recopied: false,
    ...o,
  };
}

/** A table's count-mode result, and that of a table missing on the target: one shape whichever path counted it. */
import type { TableVerify } from './types.js';
import type { CopyTable } from '../data/plan/types.js';
import { qualify } from '../../core/ident.js';

function wholeTable(sourceCount: number, targetCount: number): TableVerify['mismatches'][number] {
  return { range: 'whole table', lower: null, upper: null, sourceCount, targetCount, examples: [] };
}

/** The table is missing on the target: its source rows are all reported as a mismatch. */
export function missingResult(out: TableVerify, sourceRows: number): TableVerify {
  out.sourceRows = sourceRows;
  out.error = `table ${out.target} does not exist on the target`;
  out.mismatches.push(wholeTable(sourceRows, 0));
  return out;
}

/** Both sides counted. */
export function countResult(out: TableVerify, sourceRows: number, targetRows: number): TableVerify {
  out.sourceRows = sourceRows;
  out.targetRows = targetRows;
  out.ok = sourceRows === targetRows;
  if (!out.ok) out.mismatches.push(wholeTable(sourceRows, targetRows));
  return out;
}

/** A table's result before any count. */
export function newResult(t: CopyTable): TableVerify {
  const target = qualify(t.target.schema, t.target.name);
  return { key: t.key, target, sourceRows: null, targetRows: null, ok: false, mismatches: [] };
}

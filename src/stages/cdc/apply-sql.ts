/**
 * One source change as one target statement: values go as text parameters cast to the target
 * column's type (`$1::numeric(12,2)`), so every type the copy handles in text form applies the
 * same way. TOASTed values a change left alone are never sent: such a column stays out of the
 * UPDATE instead of being overwritten with NULL.
 */
import { PgferryError } from '../../core/errors.js';
import type { ColumnValue } from './pgoutput/messages.js';
import type { RelationPlan, TargetColumn } from './relations.js';

export interface Sql {
  text: string;
  /** Text values, or arrays of them (set-based statements of apply-compact.ts). */
  values: (string | null | (string | null)[])[];
}

const isUnchanged = (v: ColumnValue): v is { unchanged: true } => v !== null && typeof v === 'object';

class Params {
  values: (string | null)[] = [];
  add(v: string | null, type: string): string {
    this.values.push(v);
    return `$${this.values.length}::${type}`;
  }
}

export function insertSql(p: RelationPlan, row: ColumnValue[]): Sql {
  const params = new Params();
  const names: string[] = [];
  const vals: string[] = [];
  row.forEach((v, i) => {
    const col = p.columns[i];
    if (!col || isUnchanged(v)) return;
    names.push(col.name);
    vals.push(params.add(v, col.type));
  });
  return { text: `INSERT INTO ${p.target} (${names.join(', ')}) VALUES (${vals.join(', ')})`, values: params.values };
}

function noIdentity(p: RelationPlan, what: string): PgferryError {
  return new PgferryError('data', `cannot apply ${what} on ${p.key}: the source table has no replica identity`, {
    hint: `on the source: ALTER TABLE ${p.key} REPLICA IDENTITY FULL (or add a primary key), then start the task again`,
  });
}

/** The condition that finds the one target row a change names. */
function whereRow(p: RelationPlan, params: Params, old: ColumnValue[], full: boolean): string {
  const parts: string[] = [];
  const positions = full ? old.map((_, i) => i) : p.identity;
  for (const i of positions) {
    const col: TargetColumn | null = p.columns[i];
    const v = old[i];
    if (!col || isUnchanged(v)) continue;
    if (v === null) parts.push(`${col.name} IS NULL`);
    // FULL: compared as text, so types without an equality operator (json, point…) work too
    else if (full) parts.push(`${col.name}::text = (${params.add(v, col.type)})::text`);
    else parts.push(`${col.name} = ${params.add(v, col.type)}`);
  }
  const cond = parts.length ? parts.join(' AND ') : 'true';
  // Without a key, rows may repeat: touch exactly one of the equal rows, as the source did.
  return full ? `ctid = (SELECT ctid FROM ${p.target} WHERE ${cond} LIMIT 1)` : cond;
}

export function updateSql(
  p: RelationPlan,
  m: { key?: ColumnValue[]; old?: ColumnValue[]; row: ColumnValue[] },
): Sql | undefined {
  if (p.noIdentity) throw noIdentity(p, 'an UPDATE');
  const params = new Params();
  const sets: string[] = [];
  m.row.forEach((v, i) => {
    const col = p.columns[i];
    if (col && !isUnchanged(v)) sets.push(`${col.name} = ${params.add(v, col.type)}`);
  });
  if (!sets.length) return undefined;
  const old = m.old ?? m.key ?? m.row;
  const where = whereRow(p, params, old, p.full && m.old !== undefined);
  return { text: `UPDATE ${p.target} SET ${sets.join(', ')} WHERE ${where}`, values: params.values };
}

export function deleteSql(p: RelationPlan, m: { key?: ColumnValue[]; old?: ColumnValue[] }): Sql {
  if (p.noIdentity) throw noIdentity(p, 'a DELETE');
  const params = new Params();
  const old = m.old ?? m.key ?? [];
  const where = whereRow(p, params, old, p.full && m.old !== undefined);
  return { text: `DELETE FROM ${p.target} WHERE ${where}`, values: params.values };
}

export function truncateSql(targets: string[]): Sql | undefined {
  if (!targets.length) return undefined;
  return { text: `TRUNCATE ONLY ${targets.join(', ')}`, values: [] };
}

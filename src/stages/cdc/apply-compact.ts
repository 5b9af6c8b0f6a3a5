/**
 * The net effect of a batch's changes on tables with a key, applied in a few set-based statements
 * instead of one statement per change: per table and key, only the row's last image (or its
 * deletion) matters once the whole batch commits as one target transaction. Flushed as
 *   DELETE … WHERE key IN (unnest …)      every key deleted or given a whole new image,
 *   INSERT … SELECT … FROM unnest(…)      the whole images,
 *   UPDATE … FROM unnest(…)               rows only updated in the batch whose image lacks an
 *                                         unchanged TOAST value (those columns are left alone).
 * When the target's primary key is the replica identity (and immediate), the whole images go as
 *   INSERT … SELECT … FROM unnest(…) ON CONFLICT (key) DO UPDATE   one statement instead of a DELETE
 *                                         and an INSERT, and an update of a row in place (HOT when
 *                                         no indexed column changed) instead of a new row version;
 * only the keys deleted in the batch (and the old keys of key changes) are then DELETEd, first.
 * Values go as text arrays cast to each target column's type, as the one-by-one statements do.
 * The caller keeps a change out (`add` returns false) when the net effect cannot stand for it:
 * a key value not sent, an update of a row this batch deleted. Inserts into a table without a key
 * are gathered in order too; its updates and deletes go one by one after the gathered changes.
 */
import type { ColumnValue } from './pgoutput/messages.js';
import type { RelationPlan } from './relations.js';
import type { Sql } from './apply-sql.js';

const isUnchanged = (v: ColumnValue): v is { unchanged: true } => v !== null && typeof v === 'object';

type Entry =
  | { kind: 'delete'; key: ColumnValue[] }
  /** Existed before the batch or not: replaced as a whole (delete, then insert). */
  | { kind: 'whole'; row: ColumnValue[] }
  /** Existed before the batch, only updated in it; some values unchanged TOAST. */
  | { kind: 'partial'; row: ColumnValue[] };

/** A row's key: its one key column's value, or the JSON text of several (a table's keys are all one kind). */
type Key = string | null;

interface TableChanges {
  plan: RelationPlan;
  rows: Map<Key, Entry>;
  /** Inserts into a table without a key, in order (an UPDATE or DELETE of it settles them first). */
  appended: ColumnValue[][];
}

/** Whether a change may go into the batch's net effect for its table. */
export function compactable(p: RelationPlan): boolean {
  return !p.full && !p.noIdentity && p.identity.length > 0;
}

export class NetEffect {
  private tables = new Map<string, TableChanges>();
  private count = 0;

  /** `upsert(plan)`: the target table's primary key is the plan's identity (see upsertKeys). */
  constructor(private upsert: (p: RelationPlan) => boolean = () => false) {}

  get size(): number {
    return this.count;
  }

  /** The caller settles the net effect before a table's plan changes (a new Relation message). */
  private table(p: RelationPlan): TableChanges {
    let t = this.tables.get(p.target);
    if (!t) this.tables.set(p.target, (t = { plan: p, rows: new Map(), appended: [] }));
    return t;
  }

  /**
   * The row's key in its table's map: a one-column key is its value as it is (no array and no
   * JSON text per change); undefined when a key value was not sent.
   */
  private keyOf(p: RelationPlan, row: ColumnValue[]): Key | undefined {
    const id = p.identity;
    if (id.length === 1) {
      const v = row[id[0]!];
      return v === undefined || isUnchanged(v) ? undefined : v;
    }
    const k = id.map((i) => row[i]);
    if (k.some((v) => v === undefined || isUnchanged(v))) return undefined;
    return JSON.stringify(k);
  }

  /** False: not taken, apply it on its own (after `flush`). */
  insert(p: RelationPlan, row: ColumnValue[]): boolean {
    const key = this.keyOf(p, row);
    const t = this.table(p);
    if (key === undefined) return false;
    t.rows.set(key, { kind: 'whole', row });
    this.count++;
    return true;
  }

  /** An insert into a table without a key: added after the rows before it, never merged. */
  append(p: RelationPlan, row: ColumnValue[]): void {
    this.table(p).appended.push(row);
    this.count++;
  }

  update(p: RelationPlan, m: { key?: ColumnValue[]; old?: ColumnValue[]; row: ColumnValue[] }): boolean {
    const t = this.table(p);
    if (m.old !== undefined) return false;
    const newKey = this.keyOf(p, m.row);
    if (newKey === undefined) return false;
    const oldKey = m.key ? this.keyOf(p, m.key) : newKey;
    if (oldKey === undefined) return false;
    const was = t.rows.get(oldKey);
    if (was?.kind === 'delete') return false;
    const hasUnchanged = m.row.some((v) => isUnchanged(v));
    // only an image with unchanged TOAST values takes them from the one before (no copy otherwise)
    const row = was && hasUnchanged ? merge(was.row, m.row) : m.row;
    if (oldKey !== newKey) {
      // a key change: the row moves to its new key as a whole image, or is applied on its own
      if (hasUnchanged && was?.kind !== 'whole') return false;
      t.rows.set(oldKey, { kind: 'delete', key: m.key! });
      t.rows.set(newKey, { kind: 'whole', row });
      this.count++;
      return true;
    }
    const whole = was?.kind === 'whole' || !hasUnchanged || !row.some((v) => isUnchanged(v));
    t.rows.set(newKey, { kind: whole ? 'whole' : 'partial', row });
    this.count++;
    return true;
  }

  delete(p: RelationPlan, m: { key?: ColumnValue[]; old?: ColumnValue[] }): boolean {
    const t = this.table(p);
    if (m.old !== undefined || !m.key) return false;
    const key = this.keyOf(p, m.key);
    if (key === undefined) return false;
    t.rows.set(key, { kind: 'delete', key: m.key });
    this.count++;
    return true;
  }

  /** The statements that apply the net effect, and forget it. */
  take(): Sql[] {
    const out: Sql[] = [];
    for (const { plan, rows, appended } of this.tables.values()) {
      if (appended.length) out.push(insertRows(plan, appended));
      const gone: ColumnValue[][] = [];
      const whole: ColumnValue[][] = [];
      const partial = new Map<string, ColumnValue[][]>();
      const upsert = this.upsert(plan);
      for (const e of rows.values()) {
        if (e.kind === 'delete') gone.push(e.key);
        else if (e.kind === 'whole') {
          if (!upsert) gone.push(e.row);
          whole.push(e.row);
        } else {
          const shape = e.row.map((v) => (isUnchanged(v) ? '0' : '1')).join('');
          partial.set(shape, [...(partial.get(shape) ?? []), e.row]);
        }
      }
      if (gone.length) out.push(deleteKeys(plan, gone));
      if (whole.length) out.push(upsert ? upsertRows(plan, whole) : insertRows(plan, whole));
      for (const group of partial.values()) out.push(updateRows(plan, group));
    }
    this.tables.clear();
    this.count = 0;
    return out;
  }
}

function merge(before: ColumnValue[], after: ColumnValue[]): ColumnValue[] {
  return after.map((v, i) => (isUnchanged(v) ? before[i] : v));
}

const NEEDS_ESCAPE = /["\\]/;
const ESCAPE = /["\\]/g;

/**
 * A text[] parameter in array literal form, built in one pass: {"a","b \"q\"",NULL}. Every value
 * is quoted (so empty strings, spaces, braces and the word NULL stay values).
 */
export function textArray(values: (string | null)[]): string {
  const parts = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    parts[i] = v === null ? 'NULL' : `"${NEEDS_ESCAPE.test(v) ? v.replace(ESCAPE, '\\$&') : v}"`;
  }
  return `{${parts.join(',')}}`;
}

/** `unnest($1::text[], …) AS u(c1, …)` over the given message positions, and the casts to read them. */
function columnsOf(plan: RelationPlan, positions: number[], rows: ColumnValue[][]) {
  const values = positions.map((i) => textArray(rows.map((r) => r[i] as string | null)));
  const alias = positions.map((_, j) => `c${j + 1}`);
  const from = `unnest(${positions.map((_, j) => `$${j + 1}::text[]`).join(', ')}) AS u(${alias.join(', ')})`;
  const read = positions.map((i, j) => `u.${alias[j]}::${plan.columns[i]!.type}`);
  return { values, from, read };
}

function deleteKeys(plan: RelationPlan, rows: ColumnValue[][]): Sql {
  const keys = plan.identity;
  const c = columnsOf(plan, keys, rows);
  const names = keys.map((i) => plan.columns[i]!.name);
  return {
    text: `DELETE FROM ${plan.target} WHERE (${names.join(', ')}) IN (SELECT ${c.read.join(', ')} FROM ${c.from})`,
    values: c.values,
  };
}

function insertRows(plan: RelationPlan, rows: ColumnValue[][]): Sql {
  const positions = plan.columns.flatMap((col, i) => (col ? [i] : []));
  const c = columnsOf(plan, positions, rows);
  const names = positions.map((i) => plan.columns[i]!.name);
  return {
    text: `INSERT INTO ${plan.target} (${names.join(', ')}) SELECT ${c.read.join(', ')} FROM ${c.from}`,
    values: c.values,
  };
}

/** Whole images over the rows of their keys, or new rows (no key repeats: one entry per key). */
function upsertRows(plan: RelationPlan, rows: ColumnValue[][]): Sql {
  const ins = insertRows(plan, rows);
  const keys = new Set(plan.identity);
  const key = plan.identity.map((i) => plan.columns[i]!.name);
  const sets = plan.columns.flatMap((col, i) => (col && !keys.has(i) ? [`${col.name} = EXCLUDED.${col.name}`] : []));
  const action = sets.length ? `DO UPDATE SET ${sets.join(', ')}` : 'DO NOTHING';
  return { text: `${ins.text} ON CONFLICT (${key.join(', ')}) ${action}`, values: ins.values };
}

function updateRows(plan: RelationPlan, rows: ColumnValue[][]): Sql {
  const keys = new Set(plan.identity);
  const sent = plan.columns.flatMap((col, i) => (col && !isUnchanged(rows[0][i]) ? [i] : []));
  const positions = [...plan.identity, ...sent.filter((i) => !keys.has(i))];
  const c = columnsOf(plan, positions, rows);
  const sets = positions.map((i, j) => (keys.has(i) ? '' : `${plan.columns[i]!.name} = ${c.read[j]}`)).filter(Boolean);
  const where = plan.identity.map((i, j) => `t.${plan.columns[i]!.name} = ${c.read[j]}`);
  if (!sets.length) return { text: 'SELECT 1', values: [] };
  return {
    text: `UPDATE ${plan.target} AS t SET ${sets.join(', ')} FROM ${c.from} WHERE ${where.join(' AND ')}`,
    values: c.values,
  };
}

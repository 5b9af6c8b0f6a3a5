/**
 * With `--if-exists skip|truncate` the target tables are kept, and so are their indexes and
 * keys: an index or key the data engine would build and that already exists on the target (by
 * name) is recorded as done instead, with a warning, so the build does not fail on it.
 */
import type pg from 'pg';
import type { Statement } from '../core/statement.js';
import { doneObjects, markObjectDone } from '../state/checkpoint.js';
import type { EventBus } from '../core/events.js';

export async function keepExistingEarly(
  c: pg.Client,
  taskId: string,
  early: Statement[],
  events: EventBus,
  mode: string,
): Promise<number> {
  const done = await doneObjects(c, taskId);
  const todo = early.filter((s) => !done.has(s.key) && (s.kind === 'index' || s.kind === 'constraint'));
  if (!todo.length) return 0;
  const r = await c.query<{ i: number }>(
    `SELECT i::int FROM unnest($1::text[]) WITH ORDINALITY AS w(name, i) WHERE to_regclass(w.name) IS NOT NULL`,
    [todo.map((s) => s.name)],
  );
  const existing = r.rows.map((x) => todo[x.i - 1]);
  if (!existing.length) return 0;
  await c.query('BEGIN');
  try {
    for (const s of existing) await markObjectDone(c, taskId, s.key, s.kind, s.section);
    await c.query('COMMIT');
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  }
  for (const s of existing) events.warn(`${s.kind} ${s.name} already exists on the target; kept (ifExists: ${mode})`);
  return existing.length;
}

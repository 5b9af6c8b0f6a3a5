/**
 * `--if-exists truncate`: the target tables are kept and emptied before their first row is
 * copied — once per task and table. The TRUNCATEs and their checkpoint rows commit in one
 * transaction (all tables together, so foreign keys among them do not stand in the way), and
 * a table some of whose units are already done is never emptied again.
 */
import type pg from 'pg';
import type { CopyTable } from '../stages/data/plan/types.js';
import { qualify } from '../core/ident.js';
import { truncateKey } from '../state/keys.js';
import { doneObjects, doneUnits, markObjectDone } from '../state/checkpoint.js';

export { truncateKey };

/** Empty the selected tables not emptied yet by this task; returns the tables emptied now. */
export async function truncateOnce(c: pg.Client, taskId: string, tables: CopyTable[]): Promise<string[]> {
  await c.query('BEGIN');
  try {
    const done = await doneObjects(c, taskId);
    const started = new Set([...(await doneUnits(c, taskId)).values()].map((u) => u.table_name));
    const targets = new Set<string>();
    for (const t of tables) {
      const tq = qualify(t.target.schema, t.target.name);
      if (!done.has(truncateKey(tq)) && !started.has(t.key)) targets.add(tq);
    }
    // several source tables may land in one target table: one of them started means it is ours
    for (const t of tables) if (started.has(t.key)) targets.delete(qualify(t.target.schema, t.target.name));
    const list = [...targets];
    if (list.length) await c.query(`TRUNCATE ${list.map((x) => `ONLY ${x}`).join(', ')}`);
    for (const tq of list) await markObjectDone(c, taskId, truncateKey(tq), 'truncate', 'data');
    await c.query('COMMIT');
    return list;
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  }
}

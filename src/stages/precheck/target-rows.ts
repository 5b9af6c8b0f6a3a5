/**
 * conflicts.rows: rows are never appended to a target table that already holds rows. A selected
 * table's target that exists with rows (and was not filled by an earlier run of this task) is an
 * error unless the task says what to do with them: ifExists truncate (empty it first) or drop.
 */
import type pg from 'pg';
import { doneObjects, doneUnits } from '../../state/checkpoint.js';
import { qualify } from '../../core/ident.js';
import { failed, passed, plural, warning, type CheckDef, type Ctx } from './types.js';

const FIX =
  'say what to do with those rows: --if-exists truncate (keep the tables, empty them before copying) ' +
  'or --if-exists drop (drop and recreate them); or exclude the tables, or map the schema elsewhere ' +
  '(--map-schema old=new)';

async function rowCounts(c: pg.Client, targets: string[]): Promise<{ table: string; rows: string }[]> {
  const out: { table: string; rows: string }[] = [];
  for (const tq of targets) {
    const r = await c.query<{ n: string }>(`SELECT count(*)::text AS n FROM ONLY ${tq}`);
    if (r.rows[0].n !== '0') out.push({ table: tq, rows: r.rows[0].n });
  }
  return out;
}

/** Checkpoint keys showing that this task created, kept or copied into a table: its rows are the task's. */
async function taskKeys(ctx: Ctx): Promise<Set<string>> {
  if (!ctx.taskId) return new Set();
  const keys = new Set(await doneObjects(ctx.target!, ctx.taskId));
  for (const u of (await doneUnits(ctx.target!, ctx.taskId)).values()) keys.add(u.table_name);
  return keys;
}

/** Existing target tables of the selected tables that this task has not touched yet. */
async function untouchedTargets(ctx: Ctx): Promise<string[]> {
  const tables = ctx.model!.tables.filter((t) => t.kind === 'r');
  const r = await ctx.target!.query<{ schema: string; name: string }>(
    `SELECT n.nspname AS schema, c.relname AS name FROM unnest($1::text[], $2::text[]) AS w(schema, name)
       JOIN pg_namespace n ON n.nspname = w.schema JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = w.name
      WHERE c.relkind = 'r' ORDER BY 1, 2`,
    [tables.map((t) => t.target.schema), tables.map((t) => t.target.name)],
  );
  const ours = await taskKeys(ctx);
  const source = new Map(tables.map((t) => [qualify(t.target.schema, t.target.name), t.key]));
  return r.rows
    .map((x) => qualify(x.schema, x.name))
    .filter((tq) => !ours.has(source.get(tq)!) && !ours.has(`table ${source.get(tq)}`));
}

export const targetRows: CheckDef = {
  id: 'conflicts.rows',
  title: 'Target tables that already hold rows',
  level: 'error',
  needs: ['target', 'model'],
  async run(ctx) {
    const full = await rowCounts(ctx.target!, await untouchedTargets(ctx));
    if (!full.length) return passed('no selected target table holds rows the task did not copy');
    const objects = full.map((x) => `${x.table}: ${x.rows} row(s)`);
    const what = `${plural(full.length, 'target table')} already ${full.length === 1 ? 'holds' : 'hold'} rows`;
    const sure = 'make sure those rows are not needed';
    const mode = ctx.task.ifExists;
    if (mode === 'truncate')
      return warning(`${what}; they will be emptied before copying (ifExists: truncate)`, objects, sure);
    if (mode === 'drop')
      return warning(`${what}; the tables will be dropped and recreated (ifExists: drop)`, objects, sure);
    return failed(`${what} (${objects.join(', ')}): copying would add the source rows to them`, objects, FIX);
  },
};

/**
 * conflicts.rows: rows are never appended to a target table that already holds rows. A selected
 * table's target that exists with rows (and was not filled by an earlier run of this task) is an
 * error unless the task says what to do with them: ifExists truncate (empty it first) or drop.
 */
import { doneObjects, doneUnits } from '../task/checkpoint.js';
import { qualify } from '../util/ident.js';
import { failed, passed, plural, warning, type CheckDef } from './types.js';

async function nonEmptyTargets(ctx: Parameters<CheckDef['run']>[0], targets: string[]): Promise<{ table: string; rows: string }[]> {
  const out: { table: string; rows: string }[] = [];
  for (const tq of targets) {
    const r = await ctx.target!.query<{ n: string }>(`SELECT count(*)::text AS n FROM ONLY ${tq}`);
    if (r.rows[0].n !== '0') out.push({ table: tq, rows: r.rows[0].n });
  }
  return out;
}

export const targetRows: CheckDef = {
  id: 'conflicts.rows', title: 'Target tables that already hold rows', level: 'error', needs: ['target', 'model'],
  async run(ctx) {
    const tables = ctx.model!.tables.filter((t) => t.kind === 'r');
    const r = await ctx.target!.query<{ schema: string; name: string }>(
      `SELECT n.nspname AS schema, c.relname AS name FROM unnest($1::text[], $2::text[]) AS w(schema, name)
         JOIN pg_namespace n ON n.nspname = w.schema JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = w.name
        WHERE c.relkind = 'r'`,
      [tables.map((t) => t.target.schema), tables.map((t) => t.target.name)]);
    const ours = ctx.taskId ? new Set([...await doneObjects(ctx.target!, ctx.taskId)]) : new Set<string>();
    if (ctx.taskId) for (const u of (await doneUnits(ctx.target!, ctx.taskId)).values()) ours.add(u.table_name);
    const existing = r.rows.map((x) => qualify(x.schema, x.name));
    // tables this task created or already copied into hold its own rows: the rerun continues them
    const byTarget = new Map(tables.map((t) => [qualify(t.target.schema, t.target.name), t.key]));
    const fresh = existing.filter((tq) => ![byTarget.get(tq)!, `table ${byTarget.get(tq)}`].some((k) => ours.has(k)));
    const full = await nonEmptyTargets(ctx, fresh);
    if (!full.length) return passed(`no selected target table holds rows${existing.length ? ' not copied by this task' : ''}`);
    const objects = full.map((x) => `${x.table}: ${x.rows} row(s)`);
    const what = `${plural(full.length, 'target table')} already ${full.length === 1 ? 'holds' : 'hold'} rows`;
    const mode = ctx.task.ifExists;
    if (mode === 'truncate') return warning(`${what}; they will be emptied before copying (ifExists: truncate)`, objects, 'make sure those rows are not needed');
    if (mode === 'drop') return warning(`${what}; the tables will be dropped and recreated (ifExists: drop)`, objects, 'make sure those rows are not needed');
    return failed(`${what} (${objects.join(', ')}): copying would add the source rows to them`, objects,
      'say what to do with those rows: --if-exists truncate (keep the tables, empty them before copying) or ' +
      '--if-exists drop (drop and recreate them); or exclude the tables, or map the schema elsewhere (--map-schema old=new)');
  },
};

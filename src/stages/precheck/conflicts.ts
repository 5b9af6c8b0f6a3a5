/**
 * conflicts.target: selected tables, by their target names, that already exist on the target.
 * Objects an earlier interrupted run of the same task recorded as done (checkpoint schema
 * pgferry on the target) are not conflicts: the rerun continues them.
 */
import { doneObjects } from '../../state/checkpoint.js';
import { qualify } from '../../core/ident.js';
import { failed, passed, plural, warning, type CheckDef } from './types.js';

const KIND: Record<string, string> = {
  r: 'table',
  p: 'partitioned table',
  v: 'view',
  m: 'materialized view',
  S: 'sequence',
  f: 'foreign table',
  i: 'index',
  I: 'partitioned index',
  c: 'composite type',
};

export const conflictsTarget: CheckDef = {
  id: 'conflicts.target',
  title: 'Name conflicts on the target',
  level: 'error',
  needs: ['target', 'model'],
  async run(ctx) {
    const tables = ctx.model!.tables;
    if (!tables.length) return passed('no tables selected');
    const r = await ctx.target!.query<{ schema: string; name: string; kind: string }>(
      `SELECT n.nspname AS schema, c.relname AS name, c.relkind::text AS kind
       FROM unnest($1::text[], $2::text[]) AS w(schema, name)
       JOIN pg_namespace n ON n.nspname = w.schema
       JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = w.name
       ORDER BY 1, 2`,
      [tables.map((t) => t.target.schema), tables.map((t) => t.target.name)],
    );
    if (!r.rows.length) return passed(`none of the ${plural(tables.length, 'selected table')} exists on the target`);
    const done = ctx.taskId ? await doneObjects(ctx.target!, ctx.taskId) : new Set<string>();
    const bySource = new Map(tables.map((t) => [qualify(t.target.schema, t.target.name), t]));
    const conflicts: string[] = [];
    let resumed = 0;
    for (const row of r.rows) {
      const tq = qualify(row.schema, row.name);
      const t = bySource.get(tq)!;
      if ([t.key, tq, `table ${t.key}`, `table:${t.key}`, `table ${tq}`, `table:${tq}`].some((k) => done.has(k))) {
        resumed++;
        continue;
      }
      conflicts.push(`${tq} (${KIND[row.kind] ?? row.kind}${t.key !== tq ? `, target of ${t.key}` : ''})`);
    }
    const note = resumed
      ? `; ${plural(resumed, 'table')} created by an earlier run of task ${ctx.taskId} will be continued`
      : '';
    if (!conflicts.length) return passed(`no conflicts${note}`);
    const mode = ctx.task.ifExists;
    if (mode === 'skip')
      return warning(
        `${plural(conflicts.length, 'selected table')} ${conflicts.length === 1 ? 'already exists' : 'already exist'} on the target and will be left as they are (ifExists: skip)${note}`,
        conflicts,
        'the existing tables are kept as they are; make sure their definitions match the source tables',
      );
    if (mode === 'truncate')
      return warning(
        `${plural(conflicts.length, 'selected table')} ${conflicts.length === 1 ? 'already exists' : 'already exist'} on the target and will be kept and emptied before copying (ifExists: truncate)${note}`,
        conflicts,
        'make sure their definitions match the source tables and their rows are not needed',
      );
    if (mode === 'drop')
      return warning(
        `${plural(conflicts.length, 'selected table')} ${conflicts.length === 1 ? 'already exists' : 'already exist'} on the target and will be DROPPED (ifExists: drop)${note}`,
        conflicts,
        'make sure nothing on the target needs them',
      );
    return failed(
      `${plural(conflicts.length, 'selected table')} ${conflicts.length === 1 ? 'already exists' : 'already exist'} on the target${note}`,
      conflicts,
      'drop or rename them on the target, map the schema elsewhere (--map-schema old=new), exclude the tables, or set --if-exists skip|truncate|drop',
    );
  },
};

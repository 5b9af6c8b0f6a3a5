import { Command } from 'commander';
import { type ConnSpec, resolveConnSpec } from '../../pg/connstring.js';
import { withClient } from '../../pg/connect.js';
import { copyTablesOf } from '../../stages/data/plan/tables.js';
import { readSourceSchema, toScript } from '../../stages/schema/apply.js';
import { Selection } from '../../core/selection.js';
import { addConnectionOptions, addTaskOptions, taskFromOptions } from '../options.js';
import { out } from '../output.js';
import { EXIT } from '../exit.js';
import { runSourceChecks } from '../../stages/precheck/source-checks.js';
import type { CheckItem } from '../../stages/precheck/index.js';
import { dropOptions, hideOptions } from '../scope.js';

export function planCommand(): Command {
  const cmd = new Command('plan')
    .description(
      'show what a migration would create: selected objects and their target names, warnings, ' +
        'objects not migrated, the problems the source-side precheck items find (exit 4 when one blocks), ' +
        'and (--sql) the DDL script. Reads only the source; touches nothing on the target',
    )
    .option('--sql', 'print the DDL (pre, early, late) as a psql script (the summary becomes SQL comments)')
    .option('--json', 'print one JSON document');
  addConnectionOptions(cmd, { target: 'optional' });
  addTaskOptions(cmd);
  // plan reads only the source and keeps no state
  dropOptions(cmd, ['--name', '--state-dir', '--if-exists']);
  hideOptions(cmd, ['--target']);
  cmd.action(async (o: Record<string, any>) => {
    const task = taskFromOptions({ ...o, requireTarget: false });
    const { gen, tables, checks } = await readPlan(resolveConnSpec(task.source), new Selection(task));
    const blocking = checks.some((i) => i.result === 'failed' && i.severity === 'error');
    if (blocking) process.exitCode = EXIT.precheck;
    if (o.json) {
      out(
        JSON.stringify(
          {
            objects: gen.objects,
            tables: tables.map((t) => ({
              source: t.source,
              target: t.target,
              columns: t.columns.map((c) => ({ source: c.source, target: c.target })),
            })),
            warnings: gen.warnings,
            notMigrated: gen.notMigrated,
            problems: checks,
            statements: gen.statements.map(({ key, kind, name, section, table, sql }) => ({
              key,
              kind,
              name,
              section,
              table,
              sql,
            })),
          },
          null,
          2,
        ),
      );
      return;
    }
    const lines: string[] = [];
    const count = (s: string) => gen.statements.filter((x) => x.section === s).length;
    lines.push(
      `Objects (${gen.objects.length}); statements: ${count('pre')} pre, ${count('early')} early, ${count('late')} late`,
    );
    for (const ob of gen.objects)
      lines.push(`  ${ob.kind.padEnd(18)} ${ob.source}${ob.source !== ob.target ? `  ->  ${ob.target}` : ''}`);
    lines.push(`Tables to copy (${tables.length})`);
    for (const t of tables) {
      const renamed = t.columns.filter((c) => c.source !== c.target).map((c) => `${c.source}->${c.target}`);
      lines.push(
        `  ${t.key}  ->  ${t.target.schema}.${t.target.name}${renamed.length ? `  columns: ${renamed.join(', ')}` : ''}${t.where ? `  where: ${t.where}` : ''}`,
      );
    }
    lines.push(`Warnings (${gen.warnings.length})`, ...gen.warnings.map((w) => `  ${w}`));
    lines.push(
      `Not migrated (${gen.notMigrated.length})`,
      ...gen.notMigrated.map((n) => `  ${n.kind} ${n.name}: ${n.reason}`),
    );
    lines.push(...problemLines(checks, blocking));
    if (o.sql) {
      out(lines.map((l) => `-- ${l}`.replace(/\n/g, '\n-- ')).join('\n'));
      out('');
      out(toScript(gen.statements));
    } else out(lines.join('\n'));
  });
  return cmd;
}

/**
 * What `plan` shows, read from the source in one REPEATABLE READ READ ONLY transaction: the one
 * catalog read gives the DDL, the copy list and what the source-side precheck items judge, and the
 * items' own queries see the same point in time.
 */
export async function readPlan(spec: ConnSpec, sel: Selection) {
  return withClient(spec, { label: 'source', role: 'plan' }, async (c) => {
    await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    try {
      const gen = await readSourceSchema(c, sel);
      const tables = copyTablesOf(gen.model.facts, sel);
      const items = await runSourceChecks(c, sel, { catalog: gen.model, inTransaction: true });
      const checks = items.filter((i) => i.result === 'failed' || i.result === 'warning');
      return { gen, tables, checks };
    } finally {
      await c.query('COMMIT').catch(() => {});
    }
  });
}

/** Precheck items (source side) that failed or warned, as precheck prints them. */
function problemLines(checks: CheckItem[], blocking: boolean): string[] {
  const stop = blocking ? ': `migrate` would stop before writing anything' : '';
  const lines = [`Precheck problems (${checks.length})${stop}`];
  for (const i of checks) {
    lines.push(`  ${i.result === 'failed' && i.severity === 'error' ? 'ERROR' : 'WARNING'} ${i.id}: ${i.message}`);
    for (const o of i.objects) lines.push(`    - ${o}`);
    if (i.objectCount > i.objects.length) lines.push(`    … and ${i.objectCount - i.objects.length} more`);
    if (i.hint) lines.push(`    fix: ${i.hint}`);
  }
  return lines;
}

import { Command } from 'commander';
import { runPrecheck, SKIPPABLE_IDS, type PrecheckReport } from '../../stages/precheck/index.js';
import { PgferryError } from '../../core/errors.js';
import { grantsScript } from '../../stages/precheck/grants-script.js';
import { EXIT } from '../exit.js';
import { addConnectionOptions, addTaskOptions, taskFromOptions } from '../options.js';
import { out } from '../output.js';
import { plural } from '../../core/plural.js';
import { dropOptions } from '../scope.js';

const collect = (v: string, prev: string[] = []) => [
  ...prev,
  ...v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
];

export function precheckCommand(): Command {
  const cmd = new Command('precheck')
    .description(
      'check everything a migration needs before it writes anything: connectivity, versions, privileges, conflicts, mapping, integrity, filters, extensions, encoding, collations, roles, size, capacity, source activity',
    )
    .option('--json', 'print one JSON document')
    .option(
      '--grants [side]',
      'print the GRANT script a DBA runs for this task (source, target or both) instead of checking',
    )
    .option(
      '--skip <item>',
      `skip a check item (repeatable or comma-separated); skippable: ${SKIPPABLE_IDS.join(', ')}`,
      collect,
    );
  addConnectionOptions(cmd, { target: 'required' });
  addTaskOptions(cmd);
  dropOptions(cmd, ['--state-dir']);
  cmd.addHelpText('after', '\nExit status 0 when no error-level item fails, 4 otherwise.');
  cmd.action(async (o: Record<string, any>) => {
    const task = taskFromOptions(o);
    if (o.grants !== undefined) {
      const side = o.grants === true ? undefined : String(o.grants);
      if (side !== undefined && side !== 'source' && side !== 'target') {
        throw new PgferryError('usage', `--grants ${side}: expected source or target (or nothing for both)`, {
          hint: 'e.g. pgferry precheck --grants target -s … -t …',
        });
      }
      out((await grantsScript(task, side)).trimEnd());
      return;
    }
    const report = await runPrecheck(task, { skip: o.skip });
    if (o.json) out(JSON.stringify(report, null, 2));
    else out(formatReport(report));
    process.exitCode = report.ok ? EXIT.ok : EXIT.precheck;
  });
  return cmd;
}

const MARK: Record<string, string> = { passed: 'ok', failed: 'FAILED', warning: 'WARNING', skipped: 'skipped' };

/** Human form: one row per item (id, result, message), objects and fix under failed/warning items. */
export function formatReport(r: PrecheckReport): string {
  const idW = Math.max(...r.items.map((i) => i.id.length));
  const resW = 8;
  const lines: string[] = [`${'ITEM'.padEnd(idW)}  ${'RESULT'.padEnd(resW)}  MESSAGE`];
  for (const i of r.items) {
    const res = i.result === 'failed' && i.severity !== 'error' ? 'WARNING' : MARK[i.result];
    lines.push(`${i.id.padEnd(idW)}  ${res.padEnd(resW)}  ${i.message}`);
    if (i.result === 'failed' || i.result === 'warning') {
      const pad = ' '.repeat(idW + resW + 4);
      for (const obj of i.objects) lines.push(`${pad}- ${obj}`);
      if (i.objectCount > i.objects.length) lines.push(`${pad}… and ${i.objectCount - i.objects.length} more`);
      if (i.hint) lines.push(...i.hint.split('\n').map((h, n) => `${pad}${n === 0 ? 'fix: ' : '     '}${h}`));
    }
  }
  const failed = r.items.filter((i) => i.result === 'failed' && i.severity === 'error').length;
  const warned = r.items.filter((i) => i.result === 'warning').length;
  lines.push(
    '',
    r.ok
      ? `precheck passed${warned ? ` with ${plural(warned, 'warning')}` : ''} (${r.durationMs} ms)`
      : `precheck FAILED: ${plural(failed, 'blocking item')}${warned ? `, ${plural(warned, 'warning')}` : ''} (${r.durationMs} ms)`,
  );
  return lines.join('\n');
}

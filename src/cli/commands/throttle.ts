import { Command, Option } from 'commander';
import { PgferryError } from '../../errors.js';
import { readControls, StateDir, type Controls } from '../../task/state.js';
import { out } from '../output.js';

/** "off"/"none"/"0" → null; "5000" → 5000; "20MB", "1.5GB", "512kB" → bytes. */
export function parseRate(text: string, what: string, sizes: boolean): number | null {
  const t = text.trim().toLowerCase();
  if (t === 'off' || t === 'none' || t === '0' || t === 'unlimited') return null;
  const m = /^(\d+(?:\.\d+)?)\s*(k|kb|m|mb|g|gb)?(?:\/s)?$/.exec(t);
  if (!m || (!sizes && m[2] && !['k', 'm'].includes(m[2]))) {
    throw new PgferryError('usage', `${what}: cannot read ${JSON.stringify(text)}`, {
      hint: sizes ? 'give bytes per second, e.g. 50MB, 800kB, 1GB, or "off"' : 'give rows per second, e.g. 20000 or 20k, or "off"',
    });
  }
  const mult: Record<string, number> = sizes ? { k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3 } : { k: 1000, m: 1_000_000 };
  return Math.round(Number(m[1]) * (m[2] ? mult[m[2]] : 1));
}

export function throttleCommand(): Command {
  return new Command('throttle')
    .description('change the rate limits or job count of a running (or the next) data copy of a task; takes effect within a second')
    .argument('<task>', 'task name (its state directory .pgferry/<task>)')
    .option('--rows <n>', 'max rows per second over all workers, e.g. 20000, 20k, or "off"')
    .option('--bytes <n>', 'max bytes per second over all workers, e.g. 50MB, or "off"')
    .option('--jobs <n>', 'number of parallel copy workers (1..64)')
    .addOption(new Option('--state-dir <dir>', 'root of the task state directories (default ./.pgferry)')
      .env('PGFERRY_STATE_DIR'))
    .action((task: string, o: { rows?: string; bytes?: string; jobs?: string; stateDir?: string }) => {
      const state = new StateDir(StateDir.rootFor(o.stateDir), task);
      const cur: Controls = readControls(state) ?? {};
      if (o.rows === undefined && o.bytes === undefined && o.jobs === undefined) {
        out(JSON.stringify({ task, ...cur, running: state.runningPid() !== undefined }));
        return;
      }
      const next: Controls = { ...cur };
      if (o.rows !== undefined) next.maxRowsPerSec = parseRate(o.rows, '--rows', false);
      if (o.bytes !== undefined) next.maxBytesPerSec = parseRate(o.bytes, '--bytes', true);
      if (o.jobs !== undefined) {
        const j = Number(o.jobs);
        if (!Number.isInteger(j) || j < 1 || j > 64) throw new PgferryError('usage', `--jobs ${o.jobs}: expected a whole number 1..64`, { hint: 'e.g. --jobs 2' });
        next.jobs = j;
      }
      state.writeJson('control.json', next);
      const running = state.runningPid();
      out(`${task}: rows/s ${next.maxRowsPerSec ?? 'unlimited'}, bytes/s ${next.maxBytesPerSec ?? 'unlimited'}${next.jobs ? `, jobs ${next.jobs}` : ''}${running ? ` (applied to pid ${running} within a second)` : ' (task not running: applies when it next copies data)'}`);
    });
}

/** size: the selected data size from the catalogs (tables, TOAST and indexes). */
import { passed, plural, type CheckDef } from './types.js';

export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

export const size: CheckDef = {
  id: 'size',
  title: 'Data size',
  level: 'info',
  needs: ['model'],
  async run(ctx) {
    const tables = ctx.model!.tables;
    const total = tables.reduce((s, t) => s + t.bytes, 0);
    const biggest = [...tables]
      .filter((t) => t.kind === 'r')
      .sort((a, b) => b.bytes - a.bytes)
      .slice(0, 5)
      .map((t) => `${t.key}: ${formatBytes(t.bytes)}`);
    return {
      ...passed(
        `${plural(tables.length, 'selected table')}, ${formatBytes(total)} on the source (tables, TOAST and indexes, pg_total_relation_size); the target needs at least that much free disk space, plus WAL`,
        biggest,
      ),
      severity: 'info',
    };
  },
};

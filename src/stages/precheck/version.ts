/** version.compat: source 10 or newer; target major not older than the source major. */
import { failed, passed, warning, type CheckDef } from './types.js';

const major = (num: number) => Math.floor(num / 10000);
const show = (num: number) =>
  num >= 100000 ? String(Math.floor(num / 10000)) : `${Math.floor(num / 10000)}.${Math.floor(num / 100) % 100}`;

export const versionCompat: CheckDef = {
  id: 'version.compat',
  title: 'Server versions',
  level: 'error',
  needs: ['source', 'target'],
  async run(ctx) {
    const s = ctx.sourceVersion;
    const t = ctx.targetVersion;
    if (s < 100000) {
      return failed(
        `source runs PostgreSQL ${show(s)}; pgferry needs a source of version 10 or newer`,
        [`source ${show(s)}`],
        'upgrade the source first (e.g. pg_upgrade to 10+), or migrate with pg_dump/pg_restore',
      );
    }
    if (t < 100000) {
      return failed(
        `target runs PostgreSQL ${show(t)}; pgferry needs a target of version 10 or newer`,
        [`target ${show(t)}`],
        'use a target server of version 10 or newer',
      );
    }
    const sm = major(s);
    const tm = major(t);
    if (tm < sm) {
      const msg = `downgrade: source is PostgreSQL ${sm}, target is PostgreSQL ${tm}; DDL and types of ${sm} may not exist on ${tm}`;
      if (ctx.task.allowDowngrade)
        return warning(
          `${msg} (allowed by allowDowngrade)`,
          [`source ${sm} → target ${tm}`],
          'check the schema stage output carefully',
        );
      return failed(
        msg,
        [`source ${sm} → target ${tm}`],
        `use a target of PostgreSQL ${sm} or newer, or set allowDowngrade: true in the task to try anyway`,
      );
    }
    return passed(`source PostgreSQL ${sm}, target PostgreSQL ${tm}${tm > sm ? ' (upgrade)' : ''}`);
  },
};

/**
 * largeobjects.privileges: with a whole-database migration, every large object must be readable
 * by the source account (SELECT on it, ownership, or lo_compat_privileges), and the target
 * account must be able to give each one its owner (membership) — checked before anything is
 * written, instead of failing after the tables are copied. Grants the source account itself
 * holds are not carried, so they need no role on the target.
 */
import type pg from 'pg';
import { quoteIdent } from '../../core/ident.js';
import { copiesLargeObjects } from '../../core/selection.js';
import { failed, passed, plural, type CheckDef, type Ctx } from './types.js';

/** Large objects the connected source account cannot read (pg_largeobject itself is superuser-only). */
export async function unreadableLargeObjects(c: pg.Client): Promise<{ oid: string; owner: string }[]> {
  const r = await c.query<{ oid: string; owner: string }>(`
    SELECT m.oid::text AS oid, pg_get_userbyid(m.lomowner) AS owner FROM pg_largeobject_metadata m
    WHERE NOT (current_setting('lo_compat_privileges')::bool OR pg_has_role(m.lomowner, 'USAGE')
      OR EXISTS (SELECT 1 FROM aclexplode(m.lomacl) x
                 WHERE x.privilege_type = 'SELECT' AND (x.grantee = 0 OR pg_has_role(x.grantee, 'USAGE'))))
    ORDER BY m.oid`);
  return r.rows;
}

/** Owners of the source's large objects the target account cannot give ownership to. */
export async function ownersNotGivable(
  source: pg.Client,
  target: pg.Client,
  task: Ctx['task'],
): Promise<{ owner: string; n: number }[]> {
  if (task.noOwner) return [];
  const owners = await source.query<{ owner: string; n: number }>(
    `SELECT pg_get_userbyid(lomowner) AS owner, count(*)::int AS n FROM pg_largeobject_metadata GROUP BY 1 ORDER BY 1`,
  );
  const want = task.ownerTo ? [{ owner: task.ownerTo, n: owners.rows.reduce((a, x) => a + x.n, 0) }] : owners.rows;
  if (!want.length) return [];
  const r = await target.query<{ name: string; ok: boolean }>(
    `SELECT w.name, coalesce(pg_has_role(current_user, r.oid, 'MEMBER'), false) AS ok
     FROM unnest($1::text[]) AS w(name) LEFT JOIN pg_roles r ON r.rolname = w.name`,
    [want.map((x) => x.owner)],
  );
  const ok = new Map(r.rows.map((x) => [x.name, x.ok]));
  return want.filter((x) => !ok.get(x.owner));
}

type Unreadable = { oid: string; owner: string }[];
type Owners = { owner: string; n: number }[];

function loObjects(unreadable: Unreadable, owners: Owners, src: string, tgt: string): string[] {
  return [
    ...unreadable.map(
      (x) =>
        `large object ${x.oid} (owner ${quoteIdent(x.owner)}): not readable by ${src} — ` +
        `on the source: GRANT SELECT ON LARGE OBJECT ${x.oid} TO ${src};`,
    ),
    ...owners.map(
      (x) =>
        `${plural(x.n, 'large object')} owned by ${quoteIdent(x.owner)}: ${tgt} is not a member — ` +
        `on the target: GRANT ${quoteIdent(x.owner)} TO ${tgt};`,
    ),
  ];
}

function loFix(unreadable: Unreadable, owners: Owners, src: string, tgt: string): string {
  const out: string[] = [];
  if (unreadable.length) {
    const grants = unreadable
      .slice(0, 10)
      .map((x) => `GRANT SELECT ON LARGE OBJECT ${x.oid} TO ${src};`)
      .join(' ');
    out.push(
      `on the source: ${grants}${unreadable.length > 10 ? ' …' : ''} ` +
        '(or, for all of them at once, ALTER SYSTEM SET lo_compat_privileges = on; SELECT pg_reload_conf();)',
    );
  }
  if (owners.length) {
    const grants = owners.map((x) => `GRANT ${quoteIdent(x.owner)} TO ${tgt};`).join(' ');
    out.push(`on the target: ${grants} (or --owner-to / --no-owner)`);
  }
  return out.join('\n');
}

export const largeObjectPrivileges: CheckDef = {
  id: 'largeobjects.privileges',
  title: 'Large object privileges',
  level: 'error',
  needs: ['source', 'target', 'model'],
  async run(ctx) {
    if (!copiesLargeObjects(ctx.task)) return passed('large objects are not migrated with a schema or table filter');
    const src = quoteIdent(ctx.model!.user);
    const tgt = quoteIdent((await ctx.target!.query<{ u: string }>('SELECT current_user AS u')).rows[0].u);
    const unreadable = await unreadableLargeObjects(ctx.source!);
    const owners = await ownersNotGivable(ctx.source!, ctx.target!, ctx.task);
    if (!unreadable.length && !owners.length) {
      return passed('the source account can read every large object, the target account can give their owners');
    }
    const what = [
      unreadable.length ? `${plural(unreadable.length, 'large object')} not readable by ${src}` : '',
      owners.length ? `${plural(owners.length, 'large object owner')} ${tgt} cannot give ownership to` : '',
    ];
    const message = what.filter(Boolean).join('; ');
    return failed(message, loObjects(unreadable, owners, src, tgt), loFix(unreadable, owners, src, tgt));
  },
};

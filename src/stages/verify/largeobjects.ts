/**
 * Large objects: same oids, and in hash mode the same content (an order-independent sum of
 * per-object hashes computed on each server, so no object travels to pgferry).
 */
import type pg from 'pg';
import type { ObjectVerify, VerifyMode } from './types.js';

// Plain SQL available on every supported version (10+).
const COUNT_SQL = `SELECT count(*)::text AS n, coalesce(sum(oid::int8), 0)::text AS ids, NULL::text AS content
  FROM pg_largeobject_metadata`;
const HASH_SQL = `SELECT count(*)::text AS n, coalesce(sum(oid::int8), 0)::text AS ids,
  coalesce(sum(('x' || substr(md5(oid::text || ':' || md5(lo_get(oid))), 1, 16))::bit(64)::int8::numeric), 0)::text AS content
  FROM pg_largeobject_metadata`;

export async function compareLargeObjects(
  source: pg.Client,
  target: pg.Client,
  mode: VerifyMode,
): Promise<ObjectVerify | undefined> {
  const sql = mode === 'hash' ? HASH_SQL : COUNT_SQL;
  const [a, b] = await Promise.all([source.query(sql), target.query(sql)]);
  const s = a.rows[0] as { n: string; ids: string; content: string | null };
  const t = b.rows[0] as { n: string; ids: string; content: string | null };
  if (s.n === '0' && t.n === '0') return undefined;
  const sameIds = s.n === t.n && s.ids === t.ids;
  const sameContent = s.content === t.content;
  return {
    kind: 'large objects',
    sourceCount: Number(s.n),
    targetCount: Number(t.n),
    ok: sameIds && sameContent,
    missing: sameIds
      ? sameContent
        ? []
        : ['content of one or more large objects differs']
      : ['the sets of large object oids differ'],
    extra: [],
  };
}

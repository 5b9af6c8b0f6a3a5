/**
 * Large objects (pg_largeobject): copied after the tables, each with its oid, owner, grants
 * and comment, read and written in 1 MB pieces (lo_get/lo_put) so memory stays flat whatever
 * their size. Objects are grouped into target transactions of up to ~64 MB; every object's
 * checkpoint row commits with its data, so a rerun copies exactly the objects not yet done.
 * Like pg_dump, they are migrated with the whole database (no schema or table filter).
 * They are read in their own REPEATABLE READ transaction, after the tables' snapshot.
 */
import type pg from 'pg';
import { connect } from '../conn/connect.js';
import type { ConnSpec } from '../conn/connstring.js';
import { PgferryError, StatementError } from '../errors.js';
import { doneUnits, markUnitDone } from '../task/checkpoint.js';
import type { EventBus } from '../task/events.js';
import { quoteIdent, quoteLiteral } from '../util/ident.js';
import { LARGE_OBJECTS_KEY, largeObjectKey, largeObjectRangeKey } from '../state/keys.js';

const PIECE = 1 << 20;
const BATCH_BYTES = 64 << 20;
const BATCH_OBJECTS = 1000;
export { LARGE_OBJECTS_KEY };

interface LoRow {
  oid: string;
  owner: string;
  size: string;
  comment: string | null;
  acl: { grantee: string; privilege: string; grantable: boolean }[] | null;
}

export interface LargeObjectOptions {
  source: ConnSpec;
  target: ConnSpec;
  taskId: string;
  events: EventBus;
  noOwner: boolean;
  ownerTo?: string;
  noAcl: boolean;
}

/** The statements that give a new large object its owner, grants and comment. */
export function largeObjectDdl(lo: LoRow, o: Pick<LargeObjectOptions, 'noOwner' | 'ownerTo' | 'noAcl'>): string[] {
  const out: string[] = [];
  const owner = o.ownerTo ?? (o.noOwner ? undefined : lo.owner);
  if (owner) out.push(`ALTER LARGE OBJECT ${lo.oid} OWNER TO ${quoteIdent(owner)}`);
  if (!o.noAcl && lo.acl) {
    for (const a of lo.acl) {
      if (a.grantee === lo.owner) continue; // the owner's own rights come with ownership
      const who = a.grantee === '' ? 'PUBLIC' : quoteIdent(a.grantee);
      out.push(`GRANT ${a.privilege} ON LARGE OBJECT ${lo.oid} TO ${who}${a.grantable ? ' WITH GRANT OPTION' : ''}`);
    }
  }
  if (lo.comment !== null) out.push(`COMMENT ON LARGE OBJECT ${lo.oid} IS ${quoteLiteral(lo.comment)}`);
  return out;
}

export async function copyLargeObjects(o: LargeObjectOptions): Promise<{ objects: number; bytes: number; skipped: number }> {
  const src = await connect(o.source, { label: 'source', role: 'lo' });
  const tgt = await connect(o.target, { label: 'target', role: 'lo' });
  try {
    await src.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const r = await src.query<LoRow>(`
      SELECT m.oid::text AS oid, pg_get_userbyid(m.lomowner) AS owner,
             coalesce((SELECT sum(length(p.data)) FROM pg_largeobject p WHERE p.loid = m.oid), 0)::text AS size,
             obj_description(m.oid, 'pg_largeobject') AS comment,
             CASE WHEN m.lomacl IS NULL THEN NULL ELSE (SELECT json_agg(json_build_object(
               'grantee', CASE WHEN x.grantee = 0 THEN '' ELSE pg_get_userbyid(x.grantee) END,
               'privilege', x.privilege_type, 'grantable', x.is_grantable)) FROM aclexplode(m.lomacl) x) END AS acl
      FROM pg_largeobject_metadata m ORDER BY m.oid`);
    if (r.rows.length === 0) return { objects: 0, bytes: 0, skipped: 0 };
    const done = await doneUnits(tgt, o.taskId);
    const todo = r.rows.filter((lo) => !done.has(largeObjectKey(lo.oid)));
    const skipped = r.rows.length - todo.length;
    const t0 = Date.now();
    o.events.emit({ type: 'table-start', table: LARGE_OBJECTS_KEY, units: todo.length, estRows: todo.length, estBytes: todo.reduce((a, lo) => a + Number(lo.size), 0) });
    await tgt.query('SET synchronous_commit = off');
    let bytes = 0;
    for (let i = 0; i < todo.length; ) {
      const batch: LoRow[] = [];
      let batchBytes = 0;
      while (i < todo.length && batch.length < BATCH_OBJECTS && (batch.length === 0 || batchBytes + Number(todo[i].size) <= BATCH_BYTES)) {
        batchBytes += Number(todo[i].size);
        batch.push(todo[i++]);
      }
      await tgt.query('BEGIN');
      try {
        for (const lo of batch) {
          bytes += await copyOne(src, tgt, lo, o);
          await markUnitDone(tgt, { taskId: o.taskId, unitId: largeObjectKey(lo.oid), table: LARGE_OBJECTS_KEY, rows: 1, bytes: Number(lo.size), snapshot: null });
        }
        await tgt.query('COMMIT');
      } catch (e) {
        await tgt.query('ROLLBACK').catch(() => {});
        throw e;
      }
      o.events.emit({ type: 'unit-done', table: LARGE_OBJECTS_KEY, unit: largeObjectRangeKey(batch[0].oid, batch[batch.length - 1].oid), rows: batch.length, bytes: batchBytes, durationMs: Date.now() - t0 });
    }
    o.events.emit({ type: 'table-done', table: LARGE_OBJECTS_KEY, rows: todo.length, bytes, durationMs: Date.now() - t0, skippedUnits: skipped });
    await src.query('COMMIT');
    return { objects: todo.length, bytes, skipped };
  } finally {
    await src.end().catch(() => {});
    await tgt.end().catch(() => {});
  }
}

async function copyOne(src: pg.Client, tgt: pg.Client, lo: LoRow, o: LargeObjectOptions): Promise<number> {
  try {
    await tgt.query('SELECT lo_create($1::oid)', [lo.oid]);
  } catch (e) {
    if ((e as { code?: string }).code === '42710') {
      throw new PgferryError('data', `large object ${lo.oid} already exists on the target`, {
        hint: `remove it (SELECT lo_unlink(${lo.oid})) if it is left from an earlier copy not made by this task, then rerun`,
        cause: e,
      });
    }
    throw new StatementError('data', 'SELECT lo_create($1)', e, `large object ${lo.oid}`);
  }
  let offset = 0;
  for (;;) {
    const piece = await src.query<{ d: Buffer }>('SELECT lo_get($1::oid, $2::int8, $3::int4) AS d', [lo.oid, offset, PIECE]);
    const data = piece.rows[0].d;
    if (data.length === 0) break;
    await tgt.query('SELECT lo_put($1::oid, $2::int8, $3::bytea)', [lo.oid, offset, data]);
    offset += data.length;
    if (data.length < PIECE) break;
  }
  for (const sql of largeObjectDdl(lo, o)) {
    try {
      await tgt.query(sql);
    } catch (e) {
      throw new StatementError('data', sql, e, `large object ${lo.oid}`);
    }
  }
  return offset;
}

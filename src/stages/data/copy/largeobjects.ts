/**
 * Large objects (pg_largeobject): copied after the tables, each with its oid, owner, grants
 * and comment, read and written in 1 MB pieces (lo_get/lo_put) so memory stays flat whatever
 * their size. Objects are grouped into target transactions of up to ~64 MB; every object's
 * checkpoint row commits with its data, so a rerun copies exactly the objects not yet done.
 * Like pg_dump, they are migrated with the whole database (no schema or table filter).
 * They are read in their own REPEATABLE READ transaction, after the tables' snapshot.
 */
import type pg from 'pg';
import { connect } from '../../../pg/connect.js';
import type { ConnSpec } from '../../../pg/connstring.js';
import { PgferryError } from '../../../core/errors.js';
import { statementError } from '../../../core/privilege-fix.js';
import { doneUnits, markUnitDone } from '../../../state/checkpoint.js';
import type { EventBus } from '../../../core/events.js';
import { quoteIdent, quoteLiteral } from '../../../core/ident.js';
import { LARGE_OBJECTS_KEY, largeObjectKey, largeObjectRangeKey } from '../../../state/keys.js';

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
type DdlOptions = Pick<LargeObjectOptions, 'noOwner' | 'ownerTo' | 'noAcl'> & { sourceUser?: string };

export function largeObjectDdl(lo: LoRow, o: DdlOptions): string[] {
  const out: string[] = [];
  const owner = o.ownerTo ?? (o.noOwner ? undefined : lo.owner);
  if (owner) out.push(`ALTER LARGE OBJECT ${lo.oid} OWNER TO ${quoteIdent(owner)}`);
  if (!o.noAcl && lo.acl) {
    for (const a of lo.acl) {
      if (a.grantee === lo.owner) continue; // the owner's own rights come with ownership
      if (a.grantee === o.sourceUser) continue; // exists only for the migration (reported)
      const who = a.grantee === '' ? 'PUBLIC' : quoteIdent(a.grantee);
      out.push(`GRANT ${a.privilege} ON LARGE OBJECT ${lo.oid} TO ${who}${a.grantable ? ' WITH GRANT OPTION' : ''}`);
    }
  }
  if (lo.comment !== null) out.push(`COMMENT ON LARGE OBJECT ${lo.oid} IS ${quoteLiteral(lo.comment)}`);
  return out;
}

export async function copyLargeObjects(
  o: LargeObjectOptions,
): Promise<{ objects: number; bytes: number; skipped: number }> {
  const src = await connect(o.source, { label: 'source', role: 'lo' });
  const tgt = await connect(o.target, { label: 'target', role: 'lo' });
  try {
    await src.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const r = await src.query<LoRow>(`
      SELECT m.oid::text AS oid, pg_get_userbyid(m.lomowner) AS owner, '0' AS size,
             pg_catalog.obj_description(m.oid, 'pg_largeobject') AS comment,
             CASE WHEN m.lomacl IS NULL THEN NULL ELSE (SELECT json_agg(json_build_object(
               'grantee', CASE WHEN x.grantee = 0 THEN '' ELSE pg_get_userbyid(x.grantee) END,
               'privilege', x.privilege_type, 'grantable', x.is_grantable)) FROM aclexplode(m.lomacl) x) END AS acl
      FROM pg_largeobject_metadata m ORDER BY m.oid`);
    if (r.rows.length === 0) return { objects: 0, bytes: 0, skipped: 0 };
    const done = await doneUnits(tgt, o.taskId);
    const todo = r.rows.filter((lo) => !done.has(largeObjectKey(lo.oid)));
    const who = await prepare(src, tgt, todo, o.events);
    const skipped = r.rows.length - todo.length;
    const t0 = Date.now();
    o.events.emit({
      type: 'table-start',
      table: LARGE_OBJECTS_KEY,
      units: todo.length,
      estRows: todo.length,
      estBytes: todo.reduce((a, lo) => a + Number(lo.size), 0),
    });
    await tgt.query('SET synchronous_commit = off');
    let bytes = 0;
    for (let i = 0; i < todo.length; ) {
      const batch: LoRow[] = [];
      let batchBytes = 0;
      while (
        i < todo.length &&
        batch.length < BATCH_OBJECTS &&
        (batch.length === 0 || batchBytes + Number(todo[i].size) <= BATCH_BYTES)
      ) {
        batchBytes += Number(todo[i].size);
        batch.push(todo[i++]);
      }
      await tgt.query('BEGIN');
      try {
        for (const lo of batch) {
          bytes += await copyOne(src, tgt, lo, { ...o, sourceUser: who.sourceName, who });
          await markUnitDone(tgt, {
            taskId: o.taskId,
            unitId: largeObjectKey(lo.oid),
            table: LARGE_OBJECTS_KEY,
            rows: 1,
            bytes: Number(lo.size),
            snapshot: null,
          });
        }
        await tgt.query('COMMIT');
      } catch (e) {
        await tgt.query('ROLLBACK').catch(() => {});
        throw e;
      }
      o.events.emit({
        type: 'unit-done',
        table: LARGE_OBJECTS_KEY,
        unit: largeObjectRangeKey(batch[0].oid, batch[batch.length - 1].oid),
        rows: batch.length,
        bytes: batchBytes,
        durationMs: Date.now() - t0,
      });
    }
    o.events.emit({
      type: 'table-done',
      table: LARGE_OBJECTS_KEY,
      rows: todo.length,
      bytes,
      durationMs: Date.now() - t0,
      skippedUnits: skipped,
    });
    await src.query('COMMIT');
    return { objects: todo.length, bytes, skipped };
  } finally {
    await src.end().catch(() => {});
    await tgt.end().catch(() => {});
  }
}

interface Accounts {
  source: string;
  sourceName: string;
  target: string;
}

/** The two migration accounts, quoted for fix hints (sourceName unquoted, to compare with grantees). */
async function accounts(src: pg.Client, tgt: pg.Client): Promise<Accounts> {
  const s = (await src.query<{ u: string }>('SELECT current_user AS u')).rows[0].u;
  const t = (await tgt.query<{ u: string }>('SELECT current_user AS u')).rows[0].u;
  return { source: quoteIdent(s), sourceName: s, target: quoteIdent(t) };
}

/** Size through the large object interface (pg_largeobject itself is readable by superusers only). */
async function sizeOf(src: pg.Client, oid: string, who: string): Promise<string> {
  // INV_READ; the subquery (volatile, so not flattened) opens it once, the descriptor is closed after.
  const sql = 'SELECT lo_lseek64(fd, 0, 2)::text AS n, lo_close(fd) FROM (SELECT lo_open($1::oid, 262144) AS fd) s';
  try {
    const r = await src.query<{ n: string }>(sql, [oid]);
    return r.rows[0].n;
  } catch (e) {
    throw statementError('data', sql, e, `large object ${oid} (source)`, who);
  }
}

/** The accounts, each object's size, and a warning about the source account's own grants (not carried). */
async function prepare(src: pg.Client, tgt: pg.Client, todo: LoRow[], events: EventBus): Promise<Accounts> {
  const who = await accounts(src, tgt);
  for (const lo of todo) lo.size = await sizeOf(src, lo.oid, who.source);
  const leftOut = todo.filter((lo) => lo.acl?.some((a) => a.grantee === who.sourceName && a.grantee !== lo.owner));
  if (leftOut.length) {
    const oids = `${leftOut
      .slice(0, 5)
      .map((lo) => lo.oid)
      .join(', ')}${leftOut.length > 5 ? ', …' : ''}`;
    events.warn(
      `grants to the source migration account ${who.source} on ${leftOut.length} large object(s) (${oids}) ` +
        'are left out: they exist only for the migration',
    );
  }
  return who;
}

type CopyOneOptions = LargeObjectOptions & { sourceUser: string; who: Accounts };

async function copyOne(src: pg.Client, tgt: pg.Client, lo: LoRow, o: CopyOneOptions): Promise<number> {
  try {
    await tgt.query('SELECT lo_create($1::oid)', [lo.oid]);
  } catch (e) {
    if ((e as { code?: string }).code === '42710') {
      throw new PgferryError('data', `large object ${lo.oid} already exists on the target`, {
        hint: `remove it (SELECT lo_unlink(${lo.oid})) if it is left from an earlier copy not made by this task, then rerun`,
        cause: e,
      });
    }
    throw statementError('data', 'SELECT lo_create($1)', e, `large object ${lo.oid}`, o.who.target);
  }
  let offset = 0;
  for (;;) {
    const get = 'SELECT lo_get($1::oid, $2::int8, $3::int4) AS d';
    const piece = await src.query<{ d: Buffer }>(get, [lo.oid, offset, PIECE]).catch((e) => {
      throw statementError('data', get, e, `large object ${lo.oid} (source)`, o.who.source);
    });
    const data = piece.rows[0].d;
    if (data.length === 0) break;
    const put = 'SELECT lo_put($1::oid, $2::int8, $3::bytea)';
    await tgt.query(put, [lo.oid, offset, data]).catch((e) => {
      throw statementError('data', put, e, `large object ${lo.oid}`, o.who.target);
    });
    offset += data.length;
    if (data.length < PIECE) break;
  }
  for (const sql of largeObjectDdl(lo, o)) {
    try {
      await tgt.query(sql);
    } catch (e) {
      throw statementError('data', sql, e, `large object ${lo.oid}`, o.who.target);
    }
  }
  return offset;
}

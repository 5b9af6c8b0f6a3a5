/**
 * One copy unit: the source's COPY TO STDOUT relayed into the target's COPY FROM STDIN
 * (src/stages/data/copy/rawcopy.ts) and the unit's checkpoint, committed in one target transaction.
 */
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { isPgError } from '../../../core/errors.js';
import { sourceCopySql, targetCopySql, type CopyUnit } from '../plan/units.js';
import { markUnitsDone } from '../../../state/checkpoint.js';
import { qualify } from '../../../core/ident.js';
import { RawCopyOut, rawCopyIn, submitRawCopyOut } from './rawcopy.js';
import { isTransient } from '../../../pg/retry.js';
import { clearPathLocal, setStartPathLocal, startPath } from '../../../pg/search-path.js';
import { destroySocket } from './sessions.js';
import type { Throttle } from './throttle.js';
import type { TableRun } from './types.js';

export interface Copied {
  rows: number;
  bytes: number;
}

export interface WorkerContext {
  taskId: string;
  throttle: Throttle;
  signal?: AbortSignal;
}

/**
 * An empty target table without other tables' foreign keys pointing at it, truncated in this
 * transaction: COPY FREEZE writes frozen rows, no later anti-wraparound rewrite, no hint-bit
 * writes on first read. (In a savepoint: should TRUNCATE be refused, the unit goes without FREEZE.)
 */
async function tryFreeze(tgt: pg.Client, u: CopyUnit): Promise<boolean> {
  const tname = qualify(u.table.target.schema, u.table.target.name);
  const r = await tgt.query<{ ok: boolean }>(
    `SELECT NOT EXISTS (SELECT 1 FROM ONLY ${tname} LIMIT 1)
        AND NOT EXISTS (SELECT 1 FROM pg_constraint
                         WHERE confrelid = $1::regclass AND contype = 'f' AND conrelid <> confrelid)
        AND (SELECT relkind = 'r' FROM pg_class WHERE oid = $1::regclass) AS ok`,
    [tname],
  );
  if (!r.rows[0]?.ok) return false;
  try {
    // one round trip; should TRUNCATE fail, the savepoint is already there to roll back to
    await tgt.query(`SAVEPOINT pgferry_freeze; TRUNCATE ONLY ${tname}; RELEASE SAVEPOINT pgferry_freeze`);
    return true;
  } catch (e) {
    if (!isPgError(e) || isTransient(e)) throw e;
    await tgt.query('ROLLBACK TO SAVEPOINT pgferry_freeze');
    return false;
  }
}

/** Copy unit `u` of `run` from `src` (in the snapshot) into `tgt` and commit it with its checkpoint. */
export async function copyUnitRows(
  w: WorkerContext,
  src: pg.Client,
  tgt: pg.Client,
  u: CopyUnit,
  run: TableRun,
): Promise<Copied> {
  return (await copyUnitsRows(w, src, tgt, [[u, run]]))[0];
}

/**
 * Copy units (of different tables) one after another in one target transaction, each with its
 * checkpoint row, and commit them together: all of them are there and marked, or none. A batch
 * of small tables goes without COPY FREEZE.
 */
export async function copyUnitsRows(
  w: WorkerContext,
  src: pg.Client,
  tgt: pg.Client,
  units: [CopyUnit, TableRun][],
): Promise<Copied[]> {
  const live: Copied[] = [];
  try {
    await tgt.query('BEGIN');
    const out: Copied[] = [];
    for (const [u, run] of units) {
      const counted = { rows: 0, bytes: 0 };
      live.push(counted);
      // FREEZE costs two round trips per table and saves nothing measurable on tables this small
      out.push(await copyInto(w, src, tgt, u, run, counted, units.length === 1 && run.freezeOk));
    }
    const done = units.map(([u, run], i) => ({
      unitId: u.id,
      table: u.table.key,
      rows: out[i].rows,
      bytes: out[i].bytes,
      snapshot: run.lineage ?? null,
    }));
    await markUnitsDone(tgt, w.taskId, done);
    await tgt.query('COMMIT');
    for (const [u, run] of units) run.doneIds.add(u.id);
    return out;
  } finally {
    // the rows in flight leave the live counts; committed ones are counted by the caller
    live.forEach((l, i) => {
      units[i][1].liveRows -= l.rows;
      units[i][1].liveBytes -= l.bytes;
    });
  }
}

/** One unit's rows, inside the caller's transaction; `live` counts what has arrived. */
async function copyInto(
  w: WorkerContext,
  src: pg.Client,
  tgt: pg.Client,
  u: CopyUnit,
  run: TableRun,
  live: Copied,
  freezeOk: boolean,
): Promise<Copied> {
  const freeze = freezeOk ? await tryFreeze(tgt, u) : false;
  // A row filter resolves names with the source session's starting search_path (pg/search-path.ts);
  // reg* values then print relative to that path too, and the target reads them with the same one.
  const filtered = !!u.table.where;
  if (filtered) await setStartPathLocal(src);
  const regPath = filtered && run.qualifyNames ? startPath(src) : undefined;
  if (regPath !== undefined) await setStartPathLocal(tgt, regPath);
  const copyOut = new RawCopyOut(sourceCopySql(u, run.format), {
    onData(rows, bytes) {
      live.rows += rows;
      live.bytes += bytes;
      run.liveRows += rows;
      run.liveBytes += bytes;
      return w.throttle.active ? w.throttle.take(rows, bytes) : 0;
    },
  });
  const copyIn = tgt.query(rawCopyIn(targetCopySql(u, run.format, freeze)));
  submitRawCopyOut(src, copyOut);
  await relay(src, tgt, copyOut, copyIn, w.signal);
  const rows = copyIn.rowCount;
  const bytes = copyOut.bytes;
  if (filtered) await clearPathLocal(src);
  if (regPath !== undefined) await clearPathLocal(tgt);
  return { rows, bytes };
}

type CopyIn = ReturnType<typeof rawCopyIn>;

/**
 * Pipe the source's COPY into the target's. Any failure ends both sessions at once: the
 * target's COPY (and its transaction) rolls back, and neither side waits for a protocol
 * exchange that may never come. A session lost mid-COPY errors its client; the pipeline hears of it.
 */
async function relay(
  src: pg.Client,
  tgt: pg.Client,
  copyOut: RawCopyOut,
  copyIn: CopyIn,
  signal?: AbortSignal,
): Promise<void> {
  const hardStop = () => {
    destroySocket(src);
    destroySocket(tgt);
  };
  copyOut.once('error', hardStop);
  copyIn.once('error', hardStop);
  const onErr = (e: Error) => {
    copyOut.destroy(e);
    copyIn.destroy(e);
  };
  src.on('error', onErr);
  tgt.on('error', onErr);
  try {
    await pipeline(copyOut, copyIn, { signal });
  } finally {
    src.off('error', onErr);
    tgt.off('error', onErr);
  }
}

/**
 * The data engine: every selected table's rows, copied from one consistent source snapshot
 * by `jobs` parallel workers, with exact resume.
 *
 *  - A coordinator session on the source holds `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
 *    SELECT pg_export_snapshot()` open for the whole copy; each worker imports it with
 *    SET TRANSACTION SNAPSHOT. If the coordinator is lost (or on resume, when the old snapshot
 *    is gone) remaining units come from a new snapshot. Units record the snapshot's lineage
 *    (src/copy/planstore.ts): ctid ranges mean nothing across snapshots, so a table whose done
 *    units came from another lineage is emptied and recopied whole (src/copy/recopy.ts), one
 *    table at a time; tables finished earlier stay and are named (snapshotFresh).
 *  - Tables are split into ctid block-range units (src/plan/units.ts); every unit is one target
 *    transaction: COPY rows + markUnitDone → COMMIT. Reruns skip done units: never duplicates,
 *    never gaps, with or without a primary key.
 *  - Source COPY TO STDOUT is relayed into target COPY FROM STDIN message by message without
 *    reframing (src/copy/rawcopy.ts), with backpressure, metering and throttling; binary format
 *    when both majors are equal and format=auto, per table only where the column types allow it
 *    (src/copy/format.ts).
 *  - When a table's last unit lands, its early statements (indexes, PK/UNIQUE) run on a separate
 *    pool of indexJobs sessions, each in a transaction with markObjectDone, then ANALYZE.
 *  - Transient failures are retried (src/copy/retry.ts); rate limits and jobs change live
 *    through control.json.
 */
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { connect, serverVersionNum } from '../conn/connect.js';
import { toSafeUri, type ConnSpec } from '../conn/connstring.js';
import type { Statement } from '../ddl/statement.js';
import { PgferryError, StatementError, errorMessage, isPgError } from '../errors.js';
import { statementError } from '../privilege-fix.js';
import { quoteIdent } from '../util/ident.js';
import { planBoundaries, sourceCopySql, tableSizes, targetCopySql, unitsFromBoundaries, type CopyUnit, type TableSize } from '../plan/units.js';
import type { CopyTable, QualifiedName } from '../plan/types.js';
import { doneObjects, doneUnits, ensureCheckpoints, markObjectDone, markUnitDone, stateTable } from '../task/checkpoint.js';
import type { TaskConfig } from '../task/config.js';
import type { EventBus } from '../task/events.js';
import { readControls, type StateDir } from '../task/state.js';
import { qualify, quoteLiteral } from '../util/ident.js';
import {
  describeTextReason, qualifyRegNames, restoreSearchPath, tableFormat, textOnlyTables, type Format, type TextReason,
} from './format.js';
import { readSnapshotRecord, recordSnapshot, storeUnitPlans, type SnapshotRecord } from './planstore.js';
import { doneLineage, resetTableTarget } from './recopy.js';
import { abortError, isTransient, withRetry } from './retry.js';
import { RawCopyOut, rawCopyIn, submitRawCopyOut } from './rawcopy.js';
import { Throttle } from './throttle.js';
import { analyzeKey, indexPartKey, isIndexPartKey } from '../state/keys.js';

export interface CopyOptions {
  source: ConnSpec;
  target: ConnSpec;
  taskId: string;
  /** Target tables already exist (pre-data schema applied). */
  tables: CopyTable[];
  /** Index/PK statements (section 'early', Statement.table = CopyTable.key), run per table once its data landed. */
  early: Statement[];
  /** setval on target from values read in the snapshot. */
  sequences: { source: QualifiedName; target: QualifiedName }[];
  jobs: number;
  indexJobs: number;
  copy: TaskConfig['copy'];
  events: EventBus;
  /** control.json polled ~1/s for live throttle/jobs changes. */
  state?: StateDir;
  signal?: AbortSignal;
}

export interface CopyTableResult {
  key: string;
  /** Rows/bytes of the whole table, including units done by earlier runs. */
  rows: number;
  bytes: number;
  durationMs: number;
  units: number;
  /** Units skipped because an earlier run had copied them. */
  skippedUnits: number;
  /** COPY format of this table (text when a column type rules binary out, see src/copy/format.ts). */
  format: Format;
  /** Recopied whole in this run: its earlier units came from a snapshot that is gone. */
  recopied: boolean;
}

export interface CopyResult {
  tables: CopyTableResult[];
  /** True when rows already copied came from another snapshot than the rest (resume after the snapshot was lost). */
  snapshotFresh: boolean;
  retries: number;
  sequences: number;
  /** COPY format of the run; tables whose columns rule binary out go as text (CopyTableResult.format). */
  format: 'text' | 'binary';
  snapshot: string;
  /** Large objects on the target after the run (set by the runner, which copies them after the tables). */
  largeObjects?: number;
}

const TARGET_SESSION = [
  `SET synchronous_commit = off`,
  `SET statement_timeout = 0`,
  `SET lock_timeout = 0`,
  `SET idle_in_transaction_session_timeout = 0`,
];
const SOURCE_SESSION = [`SET statement_timeout = 0`, `SET idle_in_transaction_session_timeout = 0`];

function destroySocket(c: pg.Client | undefined): void {
  try {
    (c as unknown as { connection?: { stream?: { destroy(): void } } } | undefined)?.connection?.stream?.destroy();
  } catch {
    /* already gone */
  }
}

/** Close a session right away, whatever state it is in (mid-COPY included). */
function kill(c: pg.Client | undefined): void {
  if (!c) return;
  destroySocket(c);
  c.end().catch(() => {});
}

async function session(c: pg.Client, stmts: string[]): Promise<void> {
  for (const s of stmts) await c.query(s);
}

function isLostSnapshot(e: unknown): boolean {
  // 22023 invalid_parameter_value: "invalid snapshot identifier" once the exporter has gone.
  return isPgError(e) && e.code === '22023' && /snapshot/i.test(e.message);
}

/** The source session that exports and holds the snapshot. */
class SnapshotHolder {
  client?: pg.Client;
  id = '';
  /** The point in time of `id`: units copied in it record this (see SnapshotRecord). */
  lineage = '';
  /** A later snapshot replaced the first one during this run (or on resume). */
  replaced = false;
  private renewing?: Promise<void>;
  private lineages = new Map<string, string>();

  constructor(private spec: ConnSpec, private onNew: (id: string, reason: 'start' | 'imported' | 'renewed') => Promise<void>) {}

  lineageOf(id: string): string {
    return this.lineages.get(id) ?? id;
  }

  private hold(c: pg.Client, id: string, lineage: string): void {
    this.client = c;
    this.id = id;
    this.lineage = lineage;
    this.lineages.set(id, lineage);
  }

  /** Open the snapshot, re-importing `previous` when it still exists. */
  async open(previous: SnapshotRecord | null): Promise<'imported' | 'new'> {
    const c = await connect(this.spec, { label: 'source', role: 'snapshot' });
    try {
      await session(c, SOURCE_SESSION);
      if (previous?.id) {
        await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        try {
          await c.query(`SET TRANSACTION SNAPSHOT ${quoteLiteral(previous.id)}`);
          const r = await c.query<{ s: string }>('SELECT pg_export_snapshot() AS s');
          this.hold(c, r.rows[0].s, previous.lineage ?? previous.id);
          return 'imported';
        } catch (e) {
          if (!isPgError(e)) throw e;
          await c.query('ROLLBACK');
        }
      }
      await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const r = await c.query<{ s: string }>('SELECT pg_export_snapshot() AS s');
      this.hold(c, r.rows[0].s, r.rows[0].s);
      return 'new';
    } catch (e) {
      kill(c);
      throw e;
    }
  }

  /** The snapshot `lostId` is gone: export a new one (once, however many workers noticed). */
  async renew(lostId: string): Promise<void> {
    if (this.id !== lostId) return;
    if (!this.renewing) {
      this.renewing = (async () => {
        kill(this.client);
        this.client = undefined;
        await this.open(null);
        this.replaced = true;
        await this.onNew(this.id, 'renewed');
      })().finally(() => {
        this.renewing = undefined;
      });
    }
    await this.renewing;
  }

  close(): void {
    const c = this.client;
    this.client = undefined;
    if (c) c.query('COMMIT').catch(() => {}).finally(() => c.end().catch(() => {}));
  }
}

/** A copy worker's pair of sessions, kept across units and dropped on any failure. */
interface Pair {
  src?: pg.Client;
  srcSnapshot?: string;
  tgt?: pg.Client;
}

interface TableRun {
  table: CopyTable;
  size?: TableSize;
  units: CopyUnit[];
  left: number;
  skipped: number;
  rows: number;
  bytes: number;
  liveRows: number;
  liveBytes: number;
  started?: number;
  durationMs: number;
  freezeOk: boolean;
  copiedThisRun: boolean;
  format: Format;
  /** Lineage of the snapshot the table's done units were copied in (undefined: none done yet). */
  lineage?: string;
  /** Unit attempts running now (after their lineage check). */
  inflight: number;
  /** Units done (earlier runs included) in `lineage`. */
  doneIds: Set<string>;
  /** Set while the table is being reset for a recopy. */
  resetting?: Promise<void>;
  /** The table was recopied whole in this run (its earlier units came from another snapshot). */
  recopied: boolean;
  /**
   * reg* columns: their names are printed schema-qualified (qualifyRegNames). Not with a row
   * filter, which may name the user's objects through the session's search_path.
   */
  qualifyNames: boolean;
}

export async function copyData(o: CopyOptions): Promise<CopyResult> {
  const { events, signal } = o;
  const counter = { retries: 0 };
  const retryBase = { retryTimeSec: o.copy.retryTimeSec, events, signal, counter };
  if (signal?.aborted) throw abortError(signal);

  // ---- target control session: checkpoints, plans, sequences
  let ctl: pg.Client | undefined;
  const ctlClient = async (): Promise<pg.Client> => {
    if (!ctl) {
      const c = await connect(o.target, { label: 'target', role: 'copy-ctl' });
      try {
        await session(c, TARGET_SESSION);
      } catch (e) {
        kill(c);
        throw e;
      }
      ctl = c;
    }
    return ctl;
  };
  const withCtl = <T>(what: string, fn: (c: pg.Client) => Promise<T>): Promise<T> =>
    withRetry({ ...retryBase, what, onRetry: () => { kill(ctl); ctl = undefined; } }, async () => fn(await ctlClient()));

  const boot = await withCtl('read checkpoints', async (c) => {
    await ensureCheckpoints(c, o.taskId, toSafeUri(o.source));
    return {
      previousSnapshot: await readSnapshotRecord(c, o.taskId),
      done: await doneUnits(c, o.taskId),
      doneObj: await doneObjects(c, o.taskId),
      targetVersion: await serverVersionNum(c),
    };
  });
  const { done, doneObj } = boot;

  // ---- snapshot
  // A lost snapshot is only reported when a unit is copied from its replacement (noteLineage):
  // a side session (the sequence read) renewing it changes nothing already copied.
  const holder: SnapshotHolder = new SnapshotHolder(o.source, async (id) => {
    events.emit({ type: 'snapshot', snapshot: id, fresh: false });
    await withCtl('record snapshot', (c) => recordSnapshot(c, o.taskId, { id, lineage: holder.lineage }));
  });

  const opened = await withRetry({ ...retryBase, what: 'export source snapshot' }, () => holder.open(boot.previousSnapshot));
  await withCtl('record snapshot', (c) => recordSnapshot(c, o.taskId, { id: holder.id, lineage: holder.lineage }));

  const sourceVersion = await serverVersionNum(holder.client!);
  const format: Format =
    o.copy.format === 'binary' ? 'binary' : o.copy.format === 'text' ? 'text' : Math.floor(sourceVersion / 10000) === Math.floor(boot.targetVersion / 10000) ? 'binary' : 'text';
  const textOnly = await textOnlyTables(holder.client!, o.tables, boot.targetVersion);

  // ---- plan units (sizes read inside the snapshot transaction)
  const sizes = await tableSizes(holder.client!, o.tables);
  const proposed = new Map<string, number[]>();
  const heapBytes = [...sizes.values()].reduce((a, s) => a + s.bytes, 0);
  for (const t of o.tables) {
    const s = sizes.get(t.key);
    proposed.set(t.key, s ? planBoundaries(s, { ...o.copy, sourceVersion, jobs: o.jobs, totalBytes: heapBytes }) : [0]);
  }
  const plans = await withCtl('store unit plans', (c) => storeUnitPlans(c, o.taskId, proposed));

  // Tables whose target is shared by several CopyTables (or referenced by FKs) never get TRUNCATE.
  const targetCount = new Map<string, number>();
  for (const t of o.tables) {
    const k = qualify(t.target.schema, t.target.name);
    targetCount.set(k, (targetCount.get(k) ?? 0) + 1);
  }

  const earlyByTable = new Map<string, Statement[]>();
  const orphanEarly: Statement[] = [];
  const tableKeys = new Set(o.tables.map((t) => t.key));
  for (const s of o.early) {
    if (doneObj.has(s.key)) continue;
    if (s.table && tableKeys.has(s.table)) {
      const l = earlyByTable.get(s.table) ?? [];
      l.push(s);
      earlyByTable.set(s.table, l);
    } else orphanEarly.push(s);
  }

  const runs = new Map<string, TableRun>();
  const queue: CopyUnit[] = [];
  /** Lineages of the units copied so far (earlier runs included). */
  const usedLineages = new Set<string>();
  for (const t of o.tables) {
    const units = unitsFromBoundaries(t, plans.get(t.key) ?? proposed.get(t.key)!, sizes.get(t.key));
    const run: TableRun = {
      table: t, size: sizes.get(t.key), units, left: 0, skipped: 0, rows: 0, bytes: 0, liveRows: 0, liveBytes: 0,
      durationMs: 0, freezeOk: !process.env.PGFERRY_NO_FREEZE && units.length === 1 && targetCount.get(qualify(t.target.schema, t.target.name)) === 1,
      copiedThisRun: false, format: tableFormat(format, textOnly.get(t.key)), inflight: 0, doneIds: new Set(),
      recopied: false, qualifyNames: (textOnly.get(t.key)?.regNames ?? false) && !t.where,
    };
    const lineages: (string | null)[] = [];
    for (const u of units) {
      const d = done.get(u.id);
      if (d) {
        run.skipped++;
        run.rows += Number(d.rows);
        run.bytes += Number(d.bytes);
        run.doneIds.add(u.id);
        lineages.push(d.snapshot);
        usedLineages.add(d.snapshot ?? '');
      } else {
        run.left++;
        queue.push(u);
      }
    }
    run.lineage = doneLineage(lineages);
    runs.set(t.key, run);
  }
  // A new snapshot matters only if rows are still to be copied from it.
  const resumedFresh = opened === 'new' && done.size > 0 && queue.length > 0;
  events.emit({ type: 'snapshot', snapshot: holder.id, fresh: resumedFresh });
  emitTextTables(events, o.tables, textOnly, format, o.copy.format);
  // Tables with the most work behind them first (heap size × (1 + index builds still to do)),
  // a table's units together: tables complete one after another, so their index builds start
  // early and overlap the copy of the next ones, and the run does not end on a long index build.
  const weight = (u: CopyUnit) => (runs.get(u.table.key)?.size?.bytes ?? 0) * (1 + (earlyByTable.get(u.table.key)?.length ?? 0));
  queue.sort((a, b) => weight(b) - weight(a) || a.table.key.localeCompare(b.table.key) || a.start - b.start);

  // ---- throttle and live controls
  const throttle = new Throttle(o.copy.maxRowsPerSec, o.copy.maxBytesPerSec);
  let jobs = Math.max(1, o.jobs);
  let lastControls = JSON.stringify({ r: o.copy.maxRowsPerSec, b: o.copy.maxBytesPerSec, j: jobs });
  if (throttle.active) events.emit({ type: 'throttle', maxRowsPerSec: o.copy.maxRowsPerSec, maxBytesPerSec: o.copy.maxBytesPerSec, jobs });
  let wake: () => void = () => {};
  const pollControls = () => {
    if (!o.state) return;
    const c = readControls(o.state);
    if (!c) return;
    const r = c.maxRowsPerSec === undefined ? throttle.rows.limit : c.maxRowsPerSec;
    const b = c.maxBytesPerSec === undefined ? throttle.bytes.limit : c.maxBytesPerSec;
    const j = c.jobs && Number.isInteger(c.jobs) && c.jobs > 0 ? Math.min(c.jobs, 64) : jobs;
    const key = JSON.stringify({ r, b, j });
    if (key === lastControls) return;
    lastControls = key;
    throttle.set(r && r > 0 ? r : null, b && b > 0 ? b : null);
    jobs = j;
    events.emit({ type: 'throttle', maxRowsPerSec: throttle.rows.limit, maxBytesPerSec: throttle.bytes.limit, jobs });
    wake();
  };

  // ---- progress
  let totalRows = 0;
  let totalBytes = 0;
  for (const r of runs.values()) {
    totalRows += r.rows;
    totalBytes += r.bytes;
  }
  const estRows = [...runs.values()].reduce((a, r) => a + (r.size?.estRows ?? 0), 0);
  const estBytes = [...runs.values()].reduce((a, r) => a + (r.size?.bytes ?? 0), 0);
  const activeTables = new Set<TableRun>();
  const samples: { t: number; rows: number; bytes: number }[] = [];
  const liveTotals = () => {
    let rows = totalRows;
    let bytes = totalBytes;
    for (const r of activeTables) {
      rows += r.liveRows;
      bytes += r.liveBytes;
    }
    return { rows, bytes };
  };
  const emitProgress = () => {
    const now = Date.now();
    const cur = liveTotals();
    samples.push({ t: now, ...cur });
    while (samples.length > 2 && now - samples[0].t > 5000) samples.shift();
    const first = samples[0];
    const dt = (now - first.t) / 1000;
    const rowsPerSec = dt > 0 ? (cur.rows - first.rows) / dt : 0;
    const bytesPerSec = dt > 0 ? (cur.bytes - first.bytes) / dt : 0;
    const remaining = Math.max(0, estRows - cur.rows);
    events.emit({
      type: 'progress',
      rows: cur.rows,
      bytes: cur.bytes,
      estRows,
      estBytes,
      rowsPerSec: Math.round(rowsPerSec),
      bytesPerSec: Math.round(bytesPerSec),
      etaSec: rowsPerSec > 0 && estRows > 0 ? Math.round(remaining / rowsPerSec) : null,
      active: [...activeTables].map((r) => ({ table: r.table.key, bytes: r.bytes + r.liveBytes, estBytes: r.size?.bytes ?? 0, rows: r.rows + r.liveRows, estRows: r.size?.estRows ?? 0 })),
    });
  };
  const progressTimer = setInterval(emitProgress, 500);
  const controlTimer = setInterval(pollControls, 1000);
  progressTimer.unref();
  controlTimer.unref();

  // ---- index pool
  // A table's early statements run in their given order, except that consecutive
  // CREATE INDEX statements run side by side; anything else (ADD CONSTRAINT … USING INDEX,
  // ALTER INDEX … ATTACH PARTITION, EXCLUDE constraints) waits for the statements before it
  // and holds back those after it. ANALYZE follows the table's last statement.
  interface IdxTable {
    key: string;
    run?: TableRun;
    pending: Statement[];
    running: number;
    barrier: boolean;
    analyze: boolean;
  }
  const idxTables: IdxTable[] = [];
  const idxWaiters = new Set<() => void>();
  const idxWake = () => {
    for (const w of [...idxWaiters]) w();
    idxWaiters.clear();
  };
  let copyFinished = false;
  let failure: unknown;
  const fail = (e: unknown) => {
    if (failure === undefined) failure = e;
    wake();
    idxWake();
  };
  const parallelSafe = (st: Statement) => /^\s*CREATE\s+(UNIQUE\s+)?INDEX\b/i.test(st.sql) && !/\bCONCURRENTLY\b/i.test(st.sql);

  const enqueueIndexes = (run: TableRun) => {
    const stmts = buildOrder(earlyByTable.get(run.table.key) ?? [], doneObj);
    const analyze = !doneObj.has(analyzeKey(run.table.key)) && (stmts.length > 0 || run.copiedThisRun);
    if (stmts.length === 0 && !analyze) return;
    idxTables.push({ key: run.table.key, run, pending: [...stmts], running: 0, barrier: false, analyze });
    idxWake();
  };

  type IdxJob = { t: IdxTable; stmt?: Statement };
  const nextIdxJob = (): IdxJob | undefined => {
    for (const t of idxTables) {
      if (t.barrier) continue;
      if (t.pending.length > 0) {
        const st = t.pending[0];
        const par = parallelSafe(st);
        if (!par && t.running > 0) continue;
        t.pending.shift();
        t.running++;
        if (!par) t.barrier = true;
        return { t, stmt: st };
      }
      if (t.running === 0 && t.analyze) {
        t.analyze = false;
        t.running++;
        t.barrier = true;
        return { t };
      }
    }
    return undefined;
  };
  const idxJobDone = (j: IdxJob) => {
    const t = j.t;
    t.running--;
    if (t.barrier) t.barrier = false;
    if (t.pending.length === 0 && t.running === 0 && !t.analyze) idxTables.splice(idxTables.indexOf(t), 1);
    idxWake();
  };

  const indexRunner = async (n: number) => {
    let c: pg.Client | undefined;
    const client = async () => {
      if (!c) {
        const nc = await connect(o.target, { label: 'target', role: `index-${n}` });
        try {
          await session(nc, [...TARGET_SESSION, `SET maintenance_work_mem = '512MB'`]);
        } catch (e) {
          kill(nc);
          throw e;
        }
        c = nc;
      }
      return c;
    };
    try {
      for (;;) {
        if (failure !== undefined || signal?.aborted) return;
        const job = nextIdxJob();
        if (!job) {
          if (copyFinished && idxTables.length === 0) return;
          await new Promise<void>((res) => idxWaiters.add(res));
          continue;
        }
        try {
          if (job.stmt) {
            const st = job.stmt;
            const tableName = job.t.key;
            const t0 = Date.now();
            events.emit({ type: 'index-start', table: tableName, name: st.name });
            await withRetry({ ...retryBase, what: `${st.kind} ${st.name}`, onRetry: () => { kill(c); c = undefined; } }, async () => {
              const cl = await client();
              try {
                if (st.transactional === false) {
                  await cl.query(st.sql);
                  await markObjectDone(cl, o.taskId, st.key, st.kind, st.section);
                } else {
                  await cl.query('BEGIN');
                  await cl.query(st.sql);
                  await markObjectDone(cl, o.taskId, st.key, st.kind, st.section);
                  await cl.query('COMMIT');
                }
              } catch (e) {
                if (isTransient(e)) throw e;
                await cl.query('ROLLBACK').catch(() => {});
                throw statementError('schema', st.sql, e, `${st.kind} ${st.name}`, quoteIdent(o.target.user));
              }
            });
            events.emit({ type: 'index-done', table: tableName, name: st.name, durationMs: Date.now() - t0 });
            if (!isIndexPartKey(st.key)) events.emit({ type: 'object', action: 'created', kind: st.kind, name: st.name, section: st.section });
          } else if (job.t.run) {
            const key = analyzeKey(job.t.key);
            const tgt = qualify(job.t.run.table.target.schema, job.t.run.table.target.name);
            await withRetry({ ...retryBase, what: `analyze ${tgt}`, onRetry: () => { kill(c); c = undefined; } }, async () => {
              const cl = await client();
              await cl.query(`ANALYZE ${tgt}`);
              await markObjectDone(cl, o.taskId, key, 'analyze', 'early');
            });
          }
        } finally {
          idxJobDone(job);
        }
      }
    } catch (e) {
      fail(e);
    } finally {
      if (c) await c.end().catch(() => {});
    }
  };

  // Tables whose data is already complete (earlier run) but whose indexes are not.
  for (const r of runs.values()) if (r.left === 0 && (earlyByTable.get(r.table.key)?.length ?? 0) > 0) enqueueIndexes(r);

  // ---- copy workers
  const idle: Pair[] = [];
  const busy = new Set<Pair>();
  let active = 0;

  const prepareSource = async (p: Pair) => {
    if (!p.src) {
      const c = await connect(o.source, { label: 'source', role: 'copy' });
      p.src = c;
      p.srcSnapshot = undefined;
      await session(c, SOURCE_SESSION);
    }
    if (p.srcSnapshot !== holder.id) {
      if (p.srcSnapshot !== undefined) await p.src.query('COMMIT');
      p.srcSnapshot = undefined;
      const id = holder.id;
      await p.src.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      try {
        await p.src.query(`SET TRANSACTION SNAPSHOT ${quoteLiteral(id)}`);
      } catch (e) {
        await p.src.query('ROLLBACK').catch(() => {});
        if (isLostSnapshot(e)) await holder.renew(id);
        throw e;
      }
      p.srcSnapshot = id;
    }
    return p.src;
  };
  const prepareTarget = async (p: Pair) => {
    if (!p.tgt) {
      const c = await connect(o.target, { label: 'target', role: 'copy' });
      p.tgt = c;
      await session(c, TARGET_SESSION);
    }
    return p.tgt;
  };
  const dropPair = (p: Pair) => {
    kill(p.src);
    kill(p.tgt);
    p.src = p.tgt = undefined;
    p.srcSnapshot = undefined;
  };
  const closePair = (p: Pair) => {
    const { src, tgt } = p;
    p.src = p.tgt = undefined;
    if (src) src.query('COMMIT').catch(() => {}).finally(() => src.end().catch(() => {}));
    if (tgt) tgt.end().catch(() => {});
  };

  /** Who waits for a table's running unit attempts to end (a reset of the table does). */
  const inflightWaiters = new Map<TableRun, (() => void)[]>();
  const attemptEnded = (run: TableRun) => {
    if (--run.inflight > 0) return;
    for (const w of inflightWaiters.get(run) ?? []) w();
    inflightWaiters.delete(run);
  };
  const noInflight = (run: TableRun) =>
    run.inflight === 0
      ? Promise.resolve()
      : new Promise<void>((res) => inflightWaiters.set(run, [...(inflightWaiters.get(run) ?? []), res]));

  let latestLineage: string | undefined;
  const noteLineage = (lineage: string) => {
    if (usedLineages.has(lineage)) return;
    latestLineage = lineage;
    if (usedLineages.size > 0) {
      events.warn('source snapshot changed: units copied earlier came from a snapshot that is gone; the remaining '
        + `units are copied from snapshot ${holder.id}, and tables with units from the earlier one are recopied whole`);
    }
    usedLineages.add(lineage);
  };

  /** Truncate the table and drop its checkpoints (one transaction), then queue all its units again. */
  const resetTable = async (p: Pair, run: TableRun, lineage: string) => {
    await noInflight(run);
    const t = run.table;
    if (targetCount.get(qualify(t.target.schema, t.target.name)) !== 1) {
      const name = qualify(t.target.schema, t.target.name);
      throw new PgferryError('data', `table ${t.key}: its copied units come from a snapshot that is gone, and its `
        + `target ${name} also receives rows of other tables, so it cannot be emptied and recopied`, {
        hint: `empty the target table, delete its rows from ${stateTable(o.taskId, 'unit')} on the target, and rerun`,
      });
    }
    noteLineage(lineage);
    const how = await resetTableTarget(await prepareTarget(p), o.taskId, t);
    const redo = run.units.filter((u) => run.doneIds.has(u.id));
    const units = run.units.length;
    events.emit({ type: 'table-recopy', table: t.key, units, discardedUnits: redo.length, rows: run.rows });
    events.warn(`table ${t.key} is recopied whole (${how === 'truncate' ? 'truncated' : 'emptied'}): `
      + `${redo.length} of its ${units} units came from an earlier snapshot, and ctid ranges do not carry over`);
    totalRows -= run.rows;
    totalBytes -= run.bytes;
    run.rows = run.bytes = run.skipped = 0;
    run.doneIds.clear();
    run.left += redo.length;
    run.lineage = lineage;
    run.recopied = true;
    queue.unshift(...redo);
    wake();
  };

  /** Hold a snapshot of the current lineage whose table matches it (resetting the table if needed). */
  const claimLineage = async (p: Pair, run: TableRun): Promise<pg.Client> => {
    for (;;) {
      const src = await prepareSource(p);
      if (p.srcSnapshot !== holder.id) continue;
      if (run.resetting) {
        await run.resetting;
        continue;
      }
      const lineage = holder.lineageOf(p.srcSnapshot);
      if (run.lineage === undefined || run.lineage === lineage) {
        run.lineage = lineage;
        run.inflight++;
        noteLineage(lineage);
        return src;
      }
      run.resetting = resetTable(p, run, lineage).finally(() => {
        run.resetting = undefined;
      });
      await run.resetting;
    }
  };

  const copyUnit = async (p: Pair, u: CopyUnit, run: TableRun): Promise<{ rows: number; bytes: number }> => {
    const src = await claimLineage(p, run);
    try {
      return await copyClaimed(p, src, u, run);
    } finally {
      attemptEnded(run);
    }
  };

  type Copied = { rows: number; bytes: number };
  const copyClaimed = async (p: Pair, src: pg.Client, u: CopyUnit, run: TableRun): Promise<Copied> => {
    const tgt = await prepareTarget(p);
    const format = run.format;
    await tgt.query('BEGIN');
    let freeze = false;
    if (run.freezeOk) {
      const tname = qualify(u.table.target.schema, u.table.target.name);
      const r = await tgt.query<{ ok: boolean }>(
        `SELECT NOT EXISTS (SELECT 1 FROM ONLY ${tname} LIMIT 1)
            AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE confrelid = $1::regclass AND contype = 'f' AND conrelid <> confrelid)
            AND (SELECT relkind = 'r' FROM pg_class WHERE oid = $1::regclass) AS ok`,
        [tname],
      );
      if (r.rows[0]?.ok) {
        // An empty table truncated in this transaction: COPY FREEZE writes frozen rows, no
        // later anti-wraparound rewrite, no hint-bit writes on first read.
        // (In a savepoint: should TRUNCATE be refused, the unit is copied without FREEZE.)
        await tgt.query('SAVEPOINT pgferry_freeze');
        try {
          await tgt.query(`TRUNCATE ONLY ${tname}`);
          await tgt.query('RELEASE SAVEPOINT pgferry_freeze');
          freeze = true;
        } catch (e) {
          if (!isPgError(e) || isTransient(e)) throw e;
          await tgt.query('ROLLBACK TO SAVEPOINT pgferry_freeze');
        }
      }
    }
    let liveRows = 0;
    let liveBytes = 0;
    const searchPath = run.qualifyNames ? await qualifyRegNames(src) : undefined;
    const copyOut = new RawCopyOut(sourceCopySql(u, format), {
      onData(rows, bytes) {
        liveRows += rows;
        liveBytes += bytes;
        run.liveRows += rows;
        run.liveBytes += bytes;
        return throttle.active ? throttle.take(rows, bytes) : 0;
      },
    });
    const copyIn = tgt.query(rawCopyIn(targetCopySql(u, format, freeze)));
    submitRawCopyOut(src, copyOut);
    // Any failure ends both sessions at once: the target's COPY (and its transaction) rolls
    // back, and neither side waits for a protocol exchange that may never come. A session lost
    // mid-COPY errors its client; make sure the pipeline hears of it.
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
    } catch (e) {
      run.liveRows -= liveRows;
      run.liveBytes -= liveBytes;
      throw e;
    } finally {
      src.off('error', onErr);
      tgt.off('error', onErr);
    }
    const rows = copyIn.rowCount;
    const bytes = copyOut.bytes;
    try {
      if (searchPath !== undefined) await restoreSearchPath(src, searchPath);
      const snapshot = run.lineage ?? null;
      await markUnitDone(tgt, { taskId: o.taskId, unitId: u.id, table: u.table.key, rows, bytes, snapshot });
      await tgt.query('COMMIT');
      run.doneIds.add(u.id);
    } finally {
      run.liveRows -= liveRows;
      run.liveBytes -= liveBytes;
    }
    return { rows, bytes };
  };

  const runUnit = async (u: CopyUnit) => {
    const run = runs.get(u.table.key)!;
    if (run.started === undefined) {
      run.started = Date.now();
      activeTables.add(run);
      events.emit({ type: 'table-start', table: run.table.key, units: run.units.length, estRows: run.size?.estRows ?? 0, estBytes: run.size?.bytes ?? 0 });
    }
    const p = idle.pop() ?? {};
    busy.add(p);
    const t0 = Date.now();
    let res: { rows: number; bytes: number };
    try {
      res = await withRetry(
        {
          ...retryBase,
          what: `copy ${u.id}`,
          alsoRetry: isLostSnapshot,
          onRetry: () => dropPair(p),
        },
        async () => {
          try {
            return await copyUnit(p, u, run);
          } catch (e) {
            dropPair(p);
            throw e;
          }
        },
      );
    } catch (e) {
      busy.delete(p);
      dropPair(p);
      throw e;
    }
    busy.delete(p);
    if (idle.length + busy.size >= jobs) closePair(p);
    else idle.push(p);
    run.rows += res.rows;
    run.bytes += res.bytes;
    run.copiedThisRun = true;
    totalRows += res.rows;
    totalBytes += res.bytes;
    events.emit({ type: 'unit-done', table: run.table.key, unit: u.id, rows: res.rows, bytes: res.bytes, durationMs: Date.now() - t0 });
    if (--run.left === 0) {
      run.durationMs = Date.now() - run.started!;
      activeTables.delete(run);
      events.emit({ type: 'table-done', table: run.table.key, rows: run.rows, bytes: run.bytes, durationMs: run.durationMs, skippedUnits: run.skipped });
      enqueueIndexes(run);
    }
  };

  const onAbort = () => {
    for (const p of busy) dropPair(p);
    fail(abortError(signal!));
  };
  signal?.addEventListener('abort', onAbort, { once: true });

  const indexJobs = Math.max(1, o.indexJobs);
  const idxRunners = Array.from({ length: indexJobs }, (_, i) => indexRunner(i + 1));

  try {
    await new Promise<void>((resolve) => {
      const pump = () => {
        while (failure === undefined && active < jobs && queue.length > 0) {
          const u = queue.shift()!;
          active++;
          runUnit(u).then(
            () => {
              active--;
              pump();
            },
            (e) => {
              active--;
              fail(e);
              pump();
            },
          );
        }
        // trim idle sessions after a live jobs decrease
        while (idle.length > 0 && idle.length + busy.size > jobs) closePair(idle.pop()!);
        if (active === 0 && (queue.length === 0 || failure !== undefined)) resolve();
      };
      wake = pump;
      pump();
    });
    for (const p of idle.splice(0)) closePair(p);
    // Statements whose table is not among the copied tables run once all data is in.
    if (orphanEarly.length) idxTables.push({ key: '', pending: orphanEarly, running: 0, barrier: false, analyze: false });
    copyFinished = true;
    idxWake();
    await Promise.all(idxRunners);
    if (failure !== undefined) throw failure;

    // ---- sequences: values read in the snapshot (or its replacement)
    let seqCount = 0;
    if (o.sequences.length) {
      const values = await withRetry({ ...retryBase, what: 'read sequences', onRetry: () => holder.renew(holder.id) }, async () => {
        if (!holder.client) await holder.renew(holder.id);
        const out: { target: QualifiedName; last: string; called: boolean }[] = [];
        for (const s of o.sequences) {
          const r = await holder.client!.query<{ last_value: string; is_called: boolean }>(
            `SELECT last_value::text AS last_value, is_called FROM ${qualify(s.source.schema, s.source.name)}`,
          );
          out.push({ target: s.target, last: r.rows[0].last_value, called: r.rows[0].is_called });
        }
        return out;
      });
      await withCtl('set sequences', async (c) => {
        await c.query('BEGIN');
        for (const v of values) {
          await c.query(`SELECT setval($1::regclass, $2::int8, $3)`, [qualify(v.target.schema, v.target.name), v.last, v.called]);
        }
        await c.query('COMMIT');
      });
      seqCount = values.length;
    }
    emitProgress();
    const snapshotFresh = reportSnapshots(events, [...runs.values()], latestLineage);

    return {
      tables: o.tables.map((t) => {
        const r = runs.get(t.key)!;
        return {
          key: t.key, rows: r.rows, bytes: r.bytes, durationMs: r.durationMs, units: r.units.length,
          skippedUnits: r.skipped, format: r.format, recopied: r.recopied,
        };
      }),
      snapshotFresh,
      retries: counter.retries,
      sequences: seqCount,
      format,
      snapshot: holder.id,
    };
  } catch (e) {
    copyFinished = true;
    if (failure === undefined) failure = e;
    idxWake();
    await Promise.allSettled(idxRunners);
    if (e instanceof PgferryError || (e instanceof Error && e.name === 'AbortError')) throw e;
    throw new PgferryError('data', `data copy failed: ${errorMessage(e)}`, { cause: e });
  } finally {
    signal?.removeEventListener('abort', onAbort);
    clearInterval(progressTimer);
    clearInterval(controlTimer);
    for (const p of [...idle, ...busy]) dropPair(p);
    holder.close();
    if (ctl) await ctl.end().catch(() => {});
  }
}

/** Report the tables that go as text although the run uses binary COPY, with the column and type. */
function emitTextTables(events: EventBus, tables: CopyTable[], textOnly: Map<string, TextReason>, runFormat: Format,
  asked: TaskConfig['copy']['format']): void {
  if (runFormat !== 'binary' || textOnly.size === 0) return;
  for (const t of tables) {
    const r = textOnly.get(t.key);
    if (!r) continue;
    const reason = describeTextReason(r);
    events.emit({ type: 'copy-format', table: t.key, format: 'text', column: r.column, columnType: r.type, reason });
  }
  const names = [...textOnly.keys()];
  const list = `${names.slice(0, 10).join(', ')}${names.length > 10 ? `, … (${names.length - 10} more)` : ''}`;
  const msg = `${names.length} table(s) copied as text, not binary, because of a column type: ${list} `
    + '(the report names the columns)';
  if (asked === 'binary') events.warn(`copy.format binary applies where binary COPY is possible; ${msg}`);
  else events.info(msg);
}

/**
 * After the copy: do the tables' rows come from more than one snapshot? If so, say which tables
 * reflect an earlier point in time and how to prove the result. Returns CopyResult.snapshotFresh.
 */
function reportSnapshots(events: EventBus, runs: TableRun[], latest: string | undefined): boolean {
  const kept = new Set(runs.map((r) => r.lineage).filter((l): l is string => l !== undefined));
  if (kept.size <= 1) return false;
  const earlier = runs.filter((r) => r.lineage !== undefined && r.lineage !== latest).map((r) => r.table.key);
  const list = `${earlier.slice(0, 20).join(', ')}${earlier.length > 20 ? `, … (${earlier.length - 20} more)` : ''}`;
  events.warn(latest
    ? `${earlier.length} table(s) finished from an earlier snapshot and reflect that earlier point in time: ${list}. `
      + 'Writes made on the source in between are not in them; stop writes on the source and run '
      + '`pgferry verify --mode hash` to prove the target equals it'
    : `the copied tables come from ${kept.size} different snapshots (an earlier run lost its snapshot); stop writes `
      + 'on the source and run `pgferry verify --mode hash` to prove the target equals it');
  return true;
}

/**
 * A table's early statements in build order. A statement that builds an index and then attaches
 * it (PK/UNIQUE `… USING INDEX`, `ALTER INDEX … ATTACH PARTITION`) is split in two: the index
 * build, which runs side by side with the table's other index builds, and the attachment, which
 * takes an ACCESS EXCLUSIVE lock and so runs alone after them (two attachments running together
 * deadlock, each holding the SHARE lock of its own build). Each half commits with its own
 * checkpoint, so a resume redoes exactly the half that did not commit.
 */
export function buildOrder(stmts: Statement[], done: Set<string>): Statement[] {
  const builds: Statement[] = [];
  const rest: Statement[] = [];
  for (const st of stmts) {
    const m = /^(\s*CREATE\s+(?:UNIQUE\s+)?INDEX\b[\s\S]*?;)\s*\n(\s*ALTER\s+(?:TABLE|INDEX)\b[\s\S]*)$/i.exec(st.sql);
    if (!m || /\bCONCURRENTLY\b/i.test(m[1])) {
      (/^\s*CREATE\s+(UNIQUE\s+)?INDEX\b/i.test(st.sql) && !/;\s*\S/.test(st.sql.trim().replace(/;$/, '')) ? builds : rest).push(st);
      continue;
    }
    const build = { ...st, key: indexPartKey(st.key), sql: m[1] };
    if (!done.has(build.key)) builds.push(build);
    rest.push({ ...st, sql: m[2] });
  }
  return [...builds, ...rest];
}
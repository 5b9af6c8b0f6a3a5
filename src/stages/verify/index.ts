/**
 * Verification of a migrated pair: rows per table (counts, or content hashes per key range
 * with example rows), sequence states and object counts per kind. Honours the task's
 * selection, schema/table/column mapping, column subsets and row filters: the source side
 * applies the row filter, the target side takes the whole table. Everything read from the source
 * (table list, objects, sequences, every worker's rows) is read in one exported snapshot, so a
 * change committed on the source while verify runs is seen by none of its reads. The source side
 * of a count verification may have been read earlier, while the data was copied (./early.ts).
 */
import type pg from 'pg';
import { resolveConnSpec } from '../../pg/connstring.js';
import { listCopyTables } from '../data/plan/tables.js';
import { closureFilters } from './closure-filter.js';
import type { CopyTable } from '../data/plan/types.js';
import type { TaskConfig } from '../../core/config.js';
import type { EventBus } from '../../core/events.js';
import { Selection } from '../../core/selection.js';
import { errorMessage } from '../../core/errors.js';
import { withRetry } from '../../pg/retry.js';
import { openVerifySession, SessionPair } from './sessions.js';
import { qualify } from '../../core/ident.js';
import { checkChunk, isPrepared, prepareTable, type ChunkResult, type PreparedTable } from './data.js';
import { compareInventories, compareSequences, sourceInventory, targetInventory } from './objects.js';
import type { TableVerify, VerifyMode, VerifyReport } from './types.js';
import { compareLargeObjects } from './largeobjects.js';
import { countResult, newResult } from './results.js';
import { batchesOf, countBatch, missingOnTarget, tableFacts } from './count-batch.js';
import { type EarlySource, type SourceSide, targetSchemas } from './early.js';
import type { Redactor } from '../../core/redact.js';
import { copiesLargeObjects } from '../../core/selection.js';
import { ExportedSnapshot, isLostSnapshot } from '../data/snapshot-source.js';

export type * from './types.js';

export interface VerifyOptions {
  mode: VerifyMode;
  events?: EventBus;
  /** Example rows per mismatching chunk and side (hash mode). Default 5. */
  examples?: number;
  /** Rows per hash chunk (key range). Default 100000. */
  chunkRows?: number;
  /** Parallel tables (one source + one target session each). Default min(task.jobs, 4). */
  jobs?: number;
  /** Stops retries (lost connections are retried for the task's copy.retryTimeSec). */
  signal?: AbortSignal;
  /** Learns the task's passwords (default: the command line's redactor). */
  redactor?: Redactor;
  /** The source side read early (count mode): its snapshot is used, and closed at the end. */
  early?: EarlySource;
}

function detail(t: TableVerify): string {
  if (t.error) return t.error;
  if (t.ok) return `${t.sourceRows} rows`;
  return `source ${t.sourceRows} rows, target ${t.targetRows} rows; ${t.mismatches.length} mismatching range(s): ${t.mismatches
    .slice(0, 3)
    .map((m) => m.range)
    .join('; ')}`;
}

export async function verify(task: TaskConfig, o: VerifyOptions): Promise<VerifyReport> {
  const t0 = Date.now();
  const sel = new Selection(task);
  const examples = o.examples ?? 5;
  const chunkRows = Math.max(1, Math.floor(o.chunkRows ?? 100_000));
  const opened: pg.Client[] = [];
  const early: SourceSide | undefined = o.mode === 'count' ? await o.early?.take() : undefined;
  if (!early) o.early?.close();
  const snapshot = early
    ? o.early!.snapshot
    : new ExportedSnapshot(resolveConnSpec(task.source, { redactor: o.redactor }));
  // A snapshot lost with its session (a restarted source) is replaced by a new one: later reads see that one.
  const importSnapshot = async (c: pg.Client) => {
    for (let attempt = 1; ; attempt++) {
      try {
        await snapshot.importInto(c);
        return;
      } catch (e) {
        if (!isLostSnapshot(e) || attempt >= 3) {
          await c.end().catch(() => {});
          throw e;
        }
      }
    }
  };
  const open = async (side: 'source' | 'target', role: string) => {
    const c = await openVerifySession(side === 'source' ? task.source : task.target, side, role, o.redactor);
    opened.push(c);
    if (side === 'source') await importSnapshot(c);
    return c;
  };
  try {
    // A failed statement ends the source session's snapshot transaction: the pair is opened again.
    const retry = <T>(what: string, pair: SessionPair, fn: (s: pg.Client, t: pg.Client) => Promise<T>): Promise<T> =>
      withRetry(
        { what, retryTimeSec: task.copy.retryTimeSec, events: o.events, signal: o.signal, onRetry: () => pair.reset() },
        async () =>
          fn(...(await pair.get())).catch((e: unknown) => {
            pair.reset();
            throw e;
          }),
      );
    if (!early) await snapshot.open(null); // an unreachable source is reported at once, not retried
    const main = new SessionPair(() => Promise.all([open('source', 'verify'), open('target', 'verify')]));
    await main.get(); // a side that cannot be reached at the start is reported at once, not retried
    const tables = early?.tables ?? (await retry('verify: list tables', main, (src) => listCopyTables(src, sel)));

    // Which tables exist on the target and which are small, first: the table workers start at once,
    // while objects and sequences are compared on the main pair.
    // Tables whose target side was counted too, at the end of the data phase (./early-target.ts): done.
    const bothSides = (t: CopyTable) => early?.targetCounts?.has(t.key) === true && early.counts.has(t.key);
    const rest = early?.targetCounts ? tables.filter((t) => !bothSides(t)) : tables;
    const facts = early
      ? {
          missing:
            rest.length > 0
              ? await retry('verify: look up tables', main, (_, t) => missingOnTarget(t, rest))
              : new Set<string>(),
          ...batchesOf(rest, early.small),
        }
      : await retry('verify: look up tables', main, (s, t) => tableFacts(s, t, tables, o.mode === 'count'));

    // Objects and sequences on the main pair, tables on worker pairs, all at once.
    const objectsP = retry('verify objects and sequences', main, async (src, tgt) => {
      const keep = await closureFilters(src, sel);
      const s = await sourceInventory(src, sel, keep.source);
      const schemas = await targetSchemas(src, sel);
      const t = await targetInventory(tgt, schemas, sel.filtersTables ? s.targetTables : undefined, keep.target);
      const objects = compareInventories(s.items, t);
      if (copiesLargeObjects(task)) {
        const lo = await compareLargeObjects(src, tgt, o.mode);
        if (lo) objects.push(lo);
      }
      const sequences = await compareSequences(src, tgt, s.items, sel);
      return { objects, sequences };
    });
    objectsP.catch(() => {}); // awaited below; do not let an early failure go unhandled meanwhile

    // One queue of work for all workers: a table's first step (count, or key ranges), then its
    // ranges, pushed to the front so that a big table's ranges spread over every worker.
    type Item =
      | { kind: 'table'; t: CopyTable }
      | { kind: 'batch'; ts: CopyTable[] }
      | { kind: 'chunk'; p: PreparedTable; i: number; t: CopyTable };
    // Big tables whose source side was read early: their target count first (the longest), alone.
    const known = (t: CopyTable) => early?.counts.has(t.key) === true;
    const counted = facts.single.filter(known);
    const queue: Item[] = [
      ...counted.map((t) => ({ kind: 'batch' as const, ts: [t] })),
      ...facts.batches.map((ts) => ({ kind: 'batch' as const, ts })),
      ...facts.single.filter((t) => !known(t)).map((t) => ({ kind: 'table' as const, t })),
    ];
    const results = new Map<string, TableVerify>();
    const pending = new Map<PreparedTable, { left: number; chunks: ChunkResult[] }>();
    const job = { mode: o.mode, examples, chunkRows, exampleFetchLimit: 1_000_000 };
    let preparing = 0;
    let wake: () => void = () => {};
    let woken = new Promise<void>((r) => (wake = r));
    const notify = () => {
      wake();
      woken = new Promise<void>((r) => (wake = r));
    };
    const finishTable = (t: CopyTable, r: TableVerify) => {
      results.set(t.key, r);
      o.events?.emit({ type: 'verify-result', table: t.key, ok: r.ok, detail: detail(r) });
    };
    const failTable = (t: CopyTable, e: unknown) =>
      finishTable(t, {
        key: t.key,
        target: qualify(t.target.schema, t.target.name),
        sourceRows: null,
        targetRows: null,
        ok: false,
        mismatches: [],
        error: errorMessage(e),
      });
    for (const t of tables)
      if (bothSides(t))
        finishTable(t, countResult(newResult(t), early!.counts.get(t.key)!, early!.targetCounts!.get(t.key)!));
    const workers = Math.max(1, Math.min(o.jobs ?? Math.min(task.jobs, 4), queue.length));
    const work = async (n: number) => {
      if (queue.length === 0) return;
      const pair = new SessionPair(() => Promise.all([open('source', `verify-${n}`), open('target', `verify-${n}`)]));
      for (;;) {
        const item = queue.shift();
        if (!item) {
          if (preparing === 0) return;
          await woken;
          continue;
        }
        if (item.kind === 'batch') {
          preparing++;
          try {
            const rs = await retry(`verify ${item.ts.length} tables`, pair, (ws, wt) =>
              countBatch(ws, wt, item.ts, facts.missing, early?.counts),
            );
            rs.forEach((r, i) => finishTable(item.ts[i], r));
          } catch {
            // One table of the batch fails it (e.g. dropped meanwhile): verify them one by one.
            queue.unshift(...item.ts.map((t) => ({ kind: 'table' as const, t })));
          } finally {
            preparing--;
            notify();
          }
          continue;
        }
        if (item.kind === 'table') {
          preparing++;
          try {
            const r = await retry(`verify ${item.t.key}`, pair, (ws, wt) =>
              prepareTable(ws, wt, { table: item.t, ...job }, !facts.missing.has(item.t.key)),
            );
            if (!isPrepared(r)) finishTable(item.t, r);
            else {
              pending.set(r, { left: r.ranges.length, chunks: new Array(r.ranges.length) });
              queue.unshift(...r.ranges.map((_, i) => ({ kind: 'chunk' as const, p: r, i, t: item.t })));
            }
          } catch (e) {
            failTable(item.t, e);
          } finally {
            preparing--;
            notify();
          }
          continue;
        }
        const st = pending.get(item.p);
        if (!st) continue; // the table already failed
        try {
          st.chunks[item.i] = await retry(`verify ${item.t.key} range ${item.i + 1}`, pair, (ws, wt) =>
            checkChunk(ws, wt, item.p, item.i, job),
          );
        } catch (e) {
          pending.delete(item.p);
          failTable(item.t, e);
          continue;
        }
        if (--st.left === 0) {
          pending.delete(item.p);
          const out = item.p.out;
          out.sourceRows = st.chunks.reduce((a, c) => a + c.sourceRows, 0);
          out.targetRows = st.chunks.reduce((a, c) => a + c.targetRows, 0);
          out.mismatches = st.chunks.flatMap((c) => (c.mismatch ? [c.mismatch] : []));
          out.ok = out.mismatches.length === 0;
          finishTable(item.t, out);
        }
      }
    };
    await Promise.all(Array.from({ length: workers }, (_, i) => work(i + 1)));
    const { objects, sequences } = await objectsP;
    const tableResults = tables.map((t) => results.get(t.key)!);
    for (const s of sequences) {
      if (!s.ok)
        o.events?.emit({
          type: 'verify-result',
          table: s.key,
          ok: false,
          detail: `sequence: source ${fmtSeq(s.source)}, target ${fmtSeq(s.targetState)}`,
        });
    }
    for (const ob of objects) {
      if (!ob.ok)
        o.events?.emit({
          type: 'verify-result',
          table: ob.kind,
          ok: false,
          detail: `${ob.kind}: source ${ob.sourceCount}, target ${ob.targetCount}`,
        });
    }
    const ok = tableResults.every((t) => t.ok) && sequences.every((s) => s.ok) && objects.every((x) => x.ok);
    return { ok, mode: o.mode, tables: tableResults, sequences, objects, durationMs: Date.now() - t0 };
  } finally {
    snapshot.close();
    await Promise.all(opened.map((c) => c.end().catch(() => {})));
  }
}

function fmtSeq(s: { lastValue: string; isCalled: boolean } | null): string {
  return s ? `${s.lastValue}${s.isCalled ? '' : ' (not called)'}` : 'missing';
}

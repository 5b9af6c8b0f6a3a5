/**
 * Applies the stream to the target, one source transaction after the other in commit order.
 * Several small source transactions share one target transaction (a batch); the end LSN of the
 * last one is recorded in the same target transaction (lsn-checkpoint.ts), and only once that
 * COMMIT is on the target's disk is the position reported to the source as flushed. A rerun starts
 * from the recorded position and skips the transactions it already holds, so each lands exactly once.
 *
 * Commits are asynchronous (synchronous_commit = off, as native subscriptions do): a batch is
 * visible at once, and the apply does not wait for the target's WAL flush, which made every small
 * batch cost a disk sync whenever the source sent slower than the target applied. A batch's commit
 * is durable once the target's flushed WAL position passes the WAL insert position read after it;
 * the source hears of a batch only then (Durable below). A target crash loses at most commits the
 * source still holds: the rerun resumes from the position the target kept.
 *
 * `finish` wakes the apply with a NOTIFY (lsn-checkpoint.ts requestStop); each batch's checkpoint
 * update reads the stop position too, and an idle apply rereads it every TICK_MS anyway.
 */
import type pg from 'pg';
import type { EventBus } from '../../core/events.js';
import { abortError } from '../../pg/retry.js';
import { compactable, NetEffect } from './apply-compact.js';
import { DurableAcks } from './durable-acks.js';
import { deleteSql, insertSql, type Sql, truncateSql, updateSql } from './apply-sql.js';
import { readStopLsn, recordApplied, STOP_CHANNEL, targetWal } from './lsn-checkpoint.js';
import { laterLsn, type Lsn } from './lsn.js';
import type { PgoutputMessage, RelationMessage } from './pgoutput/messages.js';
import { type KnownTable, missingFromMessage, planRelation, type RelationPlan } from './relations.js';
import type { StreamItem } from './stream.js';

/** What the apply needs of the stream (ChangeStream). */
export interface ChangeSource {
  next(waitMs: number): Promise<StreamItem | undefined>;
  readonly pending: number;
  ack(lsn: Lsn): void;
  poke(): void;
  /** End a `next` that is waiting (a stop was asked for). */
  wake(): void;
  /** The next item already received, without waiting; undefined when none. */
  poll(): StreamItem | undefined;
}

export interface ApplyOptions {
  stream: ChangeSource;
  /** The apply session on the target (session_replication_role already set when allowed). */
  target: pg.Client;
  taskId: string;
  known: KnownTable[];
  /** End LSN of the last source transaction the target holds. */
  applied: Lsn;
  events: EventBus;
  /**
   * Apply a batch's changes on keyed tables as their net effect, a few set-based statements per
   * table (apply-compact.ts): only when triggers and foreign keys are quiet on the target
   * (session_replication_role = replica), and not on `uniqueBeyondKey` tables (a unique index
   * besides the key: changing rows one by one in another order could collide on it).
   */
  compact?: boolean;
  /** Task table keys whose target table has a unique index besides its key. */
  uniqueBeyondKey?: ReadonlySet<string>;
  /** Task table key → the target primary key's quoted columns, sorted (relations.ts upsertKeys). */
  upsertKeys?: ReadonlyMap<string, string[]>;
  /** The source table's columns now: tells a column added after a Relation message from a dropped one. */
  sourceColumns?(schema: string, name: string): Promise<Set<string>>;
  signal?: AbortSignal;
  /** After each committed batch. */
  onCommit?(p: ApplyProgress): void;
}

export interface ApplyProgress {
  applied: Lsn;
  commitTime: Date | null;
  txns: number;
  changes: number;
}

const BATCH_TXNS = 500;
const BATCH_CHANGES = 20_000;
/** A batch that keeps finding more in the queue commits after this long all the same (lag). */
const BATCH_MAX_MS = 250;
const TICK_MS = 500;
/**
 * Items taken in a row before the apply lets the event loop turn: the target's answers to a batch in
 * flight are read (and the next statement sent) and the socket is read while a backlog is gathered.
 */
const TURN_EVERY = 256;

/** One turn of the event loop (I/O callbacks run). */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A promise whose failure is surfaced where it is awaited, not as an unhandled rejection. */
function handled<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

class Applier {
  private relations = new Map<number, RelationPlan | undefined>();
  private net: NetEffect;
  private durable = new DurableAcks();
  /** A NOTIFY from `finish` came: read the stop position when no batch is open. */
  private stopAsked = false;
  private inTxn = false;
  private skipping = false;
  private batchOpen = false;
  private batchTxns = 0;
  /** The batch's BEGIN, sent without waiting. */
  private begun: Promise<unknown> = Promise.resolve();
  /** The last batch sent: its statements, position and COMMIT, until answered (and awaited). */
  private committing: Promise<void> | null = null;
  /** Items taken since the apply last let the event loop turn. */
  private sinceTurn = 0;
  /** When the batch's first source transaction ended. */
  private batchStarted = 0;
  private batchChanges = 0;
  private batchEnd: Lsn = 0n;
  private batchCommit: Date | null = null;
  private idleEnd: Lsn = 0n;
  private stopLsn: Lsn | null = null;
  readonly progress: ApplyProgress;

  constructor(private o: ApplyOptions) {
    this.progress = { applied: o.applied, commitTime: null, txns: 0, changes: 0 };
    this.net = new NetEffect((p) => this.upsertable(p));
  }

  /** The target's primary key is exactly the plan's identity: whole images may go as upserts. */
  private upsertable(p: RelationPlan): boolean {
    const pk = this.o.upsertKeys?.get(p.key);
    if (!pk) return false;
    const id = p.identity.map((i) => p.columns[i]?.name ?? '').sort();
    return id.length === pk.length && id.every((c, i) => c === pk[i]);
  }

  private async exec(sql: Sql | undefined): Promise<void> {
    if (!sql) return;
    await this.o.target.query(sql.text, sql.values);
    this.batchChanges++;
  }

  private plan(oid: number): RelationPlan | undefined {
    return this.relations.get(oid);
  }

  /** A message older than the catalog the task read lacks the columns added since: not a drop. */
  private async planOf(m: RelationMessage): Promise<RelationPlan | undefined> {
    const missing = missingFromMessage(m, this.o.known);
    if (!missing.length || !this.o.sourceColumns) return planRelation(m, this.o.known);
    const now = await this.o.sourceColumns(m.schema, m.name);
    return planRelation(m, this.o.known, new Set(missing.filter((c) => now.has(c))));
  }

  /** This change may join the batch's net effect. */
  private netted(p: RelationPlan): boolean {
    return this.o.compact === true && compactable(p) && !this.o.uniqueBeyondKey?.has(p.key);
  }

  /** Apply the net effect gathered so far (before a change that must follow it, and before COMMIT). */
  private async settle(): Promise<void> {
    if (!this.net.size) return;
    for (const sql of this.net.take()) await this.o.target.query(sql.text, sql.values);
  }

  /**
   * A change the batch's net effect takes is handled synchronously (no promise per message: most
   * messages of a backlog are such changes); undefined then. Anything else goes to `changeAsync`.
   */
  private change(m: PgoutputMessage): Promise<void> | undefined {
    if (m.tag !== 'insert' && m.tag !== 'update' && m.tag !== 'delete') return this.changeAsync(m);
    if (this.skipping) return undefined;
    const p = this.plan(m.relation);
    if (!p) return undefined;
    if (this.netted(p)) {
      const taken =
        m.tag === 'insert'
          ? this.net.insert(p, m.row)
          : m.tag === 'update'
            ? this.net.update(p, m)
            : this.net.delete(p, m);
      if (taken) {
        this.batchChanges++;
        return undefined;
      }
    } else if (m.tag === 'insert' && this.o.compact && !compactable(p)) {
      this.net.append(p, m.row);
      this.batchChanges++;
      return undefined;
    }
    return this.changeAsync(m);
  }

  private async changeAsync(m: PgoutputMessage): Promise<void> {
    if (m.tag === 'relation') {
      await this.settle();
      this.relations.set(m.oid, await this.planOf(m));
    }
    if (this.skipping) return;
    if (m.tag === 'insert') {
      const p = this.plan(m.relation);
      if (!p) return;
      if (this.netted(p) && this.net.insert(p, m.row)) this.batchChanges++;
      else if (this.o.compact && !compactable(p)) {
        this.net.append(p, m.row);
        this.batchChanges++;
      } else {
        await this.settle();
        await this.exec(insertSql(p, m.row));
      }
    } else if (m.tag === 'update') {
      const p = this.plan(m.relation);
      if (!p) return;
      if (this.netted(p) && this.net.update(p, m)) this.batchChanges++;
      else {
        await this.settle();
        await this.exec(updateSql(p, m));
      }
    } else if (m.tag === 'delete') {
      const p = this.plan(m.relation);
      if (!p) return;
      if (this.netted(p) && this.net.delete(p, m)) this.batchChanges++;
      else {
        await this.settle();
        await this.exec(deleteSql(p, m));
      }
    } else if (m.tag === 'truncate') {
      await this.settle();
      const targets = m.relations.flatMap((oid) => this.plan(oid)?.target ?? []);
      await this.exec(truncateSql([...new Set(targets)]));
    }
    // type, origin and logical decoding messages change nothing on the target
  }

  private begin(finalLsn: Lsn): Promise<void> | undefined {
    this.inTxn = true;
    // Already applied by an earlier run: its commit lies before the recorded end position.
    this.skipping = finalLsn < this.progress.applied;
    if (this.skipping || this.batchOpen) return undefined;
    // sent without waiting for its answer (queued behind the last batch's COMMIT on the session)
    this.batchOpen = true;
    this.begun = handled(this.o.target.query('BEGIN'));
    return undefined;
  }

  private commit(m: { endLsn: Lsn; commitTime: Date }): Promise<void> | undefined {
    this.inTxn = false;
    if (this.skipping) return undefined;
    this.batchEnd = m.endLsn;
    this.batchCommit = m.commitTime;
    if (this.batchTxns++ === 0) this.batchStarted = Date.now();
    const full = this.batchTxns >= BATCH_TXNS || this.batchChanges >= BATCH_CHANGES;
    if (full) return this.sendNext();
    if (this.o.stream.pending === 0) return this.caughtUp();
    return undefined;
  }

  /**
   * The queue ran dry at a transaction's end. The apply takes a queue without giving the socket a
   * turn: what the source sent meanwhile is still unread. It is read first (one turn of the event
   * loop); the batch goes on if something came and it is young, and commits otherwise (nothing
   * more sent: the target is up to date). Committing at every dry queue made a backlog's batches
   * only as large as what arrived during the last commit.
   */
  private async caughtUp(): Promise<void> {
    await turn();
    if (this.o.stream.pending > 0 && Date.now() - this.batchStarted < BATCH_MAX_MS) return;
    await this.sendNext();
  }

  /** Commit the batch and wait until it has committed (outside a backlog: keepalive, idle, stop). */
  private async flush(): Promise<void> {
    await this.committed();
    this.send();
    await this.committed();
  }

  /** Send the batch once the one before has committed; gather the next one meanwhile. */
  private async sendNext(): Promise<void> {
    await this.committed();
    this.send();
  }

  /** Wait for the batch sent last (throws its failure). */
  private async committed(): Promise<void> {
    const c = this.committing;
    this.committing = null;
    if (c) await c;
  }

  /**
   * Send the batch's net effect, its position and COMMIT without waiting for the answers: they are
   * queued on the session in order, and the apply gathers the next batch while the target executes
   * them (at most one batch in flight). When they are answered, the position is reported to the
   * source once durable, as before. A failure surfaces at the next wait (`committed`); the batch
   * then rolled back with its position, and the rerun resumes before it.
   */
  private send(): void {
    if (!this.batchOpen || this.inTxn) return;
    const c = this.o.target;
    const txns = this.batchTxns;
    const changes = this.batchChanges;
    const end = this.batchEnd;
    const commitTime = this.batchCommit;
    const sent: Promise<unknown>[] = [this.begun];
    if (this.net.size) for (const sql of this.net.take()) sent.push(handled(c.query(sql.text, sql.values)));
    const recorded = txns > 0 ? handled(recordApplied(c, this.o.taskId, end, commitTime!, txns)) : undefined;
    const commit = handled(c.query('COMMIT'));
    this.batchOpen = false;
    this.batchTxns = 0;
    this.batchChanges = 0;
    this.committing = handled(
      (async () => {
        for (const p of sent) await p;
        if (recorded) {
          const r = await recorded;
          this.stopLsn = r.stop;
          this.ackDurable(r);
        }
        await commit;
        if (txns > 0) {
          const p = this.progress;
          p.applied = end;
          p.commitTime = commitTime;
          p.txns += txns;
          p.changes += changes;
          this.durable.committed(end);
          this.o.onCommit?.(p);
        }
      })(),
    );
  }

  private ackDurable(wal: { walInsert: Lsn; walFlush: Lsn }): void {
    const lsn = this.durable.observe(wal);
    if (lsn !== null) this.o.stream.ack(lsn);
  }

  /** Outside a batch: report what is on the target's disk now. True when every commit is. */
  private async settleAcks(): Promise<boolean> {
    if (this.durable.settled) return true;
    this.ackDurable(await targetWal(this.o.target));
    return this.durable.settled;
  }

  private item(it: StreamItem): Promise<void> | undefined {
    if (it.tag === 'keepalive') return this.keepalive(it.end);
    const m = it;
    if (m.tag === 'begin') return this.begin(m.finalLsn);
    if (m.tag === 'commit') return this.commit(m);
    return this.change(m);
  }

  private async keepalive(end: Lsn): Promise<void> {
    // The source sends keepalives between transactions of a backlog too: committing the batch
    // at each of them made every source transaction its own target transaction.
    if (this.inTxn || this.o.stream.pending > 0) return;
    await this.flush();
    // Nothing open: everything the source sent up to here is applied.
    if (end > this.idleEnd) this.idleEnd = end;
    // ... and once it is on the target's disk too, the source may forget it.
    if ((await this.settleAcks()) && end > this.progress.applied) this.o.stream.ack(end);
  }

  /** Finished: `finish` asked to stop at a position everything up to which is applied. */
  private reachedStop(): boolean {
    if (this.stopLsn === null || this.inTxn || this.batchOpen || this.committing) return false;
    return laterLsn(this.idleEnd, this.progress.applied) >= this.stopLsn;
  }

  async run(): Promise<ApplyProgress> {
    const { stream, signal, target, taskId } = this.o;
    const onNotify = (n: { channel: string; payload?: string }) => {
      if (n.channel !== STOP_CHANNEL || n.payload !== taskId) return;
      this.stopAsked = true;
      stream.wake();
    };
    target.on('notification', onNotify);
    try {
      await target.query('SET synchronous_commit = off');
      await target.query(`LISTEN ${STOP_CHANNEL}`);
      for (;;) {
        if (signal?.aborted) throw abortError(signal);
        // what already arrived is taken without a promise; only an empty queue is waited on
        const it = stream.poll() ?? (this.stopAsked && !this.inTxn ? undefined : await stream.next(TICK_MS));
        if (it) {
          const pending = this.item(it);
          if (pending) await pending;
          if (++this.sinceTurn >= TURN_EVERY) {
            this.sinceTurn = 0;
            await turn();
          }
        } else if (!this.inTxn) {
          this.stopAsked = false;
          await this.flush();
          await this.settleAcks();
          this.stopLsn = await readStopLsn(target, taskId);
          stream.poke();
        }
        if (this.reachedStop()) {
          // The caller's next commit on this session (the capture state) flushes every batch before it.
          await target.query('SET synchronous_commit = on');
          return this.progress;
        }
      }
    } catch (e) {
      if (this.batchOpen) await target.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      target.off('notification', onNotify);
      await target.query(`UNLISTEN ${STOP_CHANNEL}`).catch(() => {});
    }
  }
}

/** Apply until `finish` asks to stop (returns) or the run is aborted or fails (throws). */
export function applyChanges(o: ApplyOptions): Promise<ApplyProgress> {
  return new Applier(o).run();
}

/**
 * A snapshot source for the data stage backed by the task's replication slot: the snapshot the
 * slot exported when it was created, held by its replication session for the whole copy. The
 * copy then shows exactly what committed before the slot's consistent point, and the stream
 * brings everything after it. (Implements the data stage's SnapshotSource.)
 *
 * Such a snapshot cannot be renewed: a later one would not match the slot. When it is lost the
 * copy stops, and the next run of the task empties the copied tables and starts over with a new
 * slot (src/stages/cdc/capture.ts).
 */
import type pg from 'pg';
import { isPgError, PgferryError } from '../../core/errors.js';
import { connect, serverVersionNum } from '../../pg/connect.js';
import type { ConnSpec } from '../../pg/connstring.js';
import type { Lsn } from './lsn.js';
import { createSlot, openReplicationSession } from './slot.js';
import { beginInSnapshot, type OnNewSnapshot, type SnapshotSource } from '../data/snapshot-source.js';

export interface SlotSnapshotOptions {
  source: ConnSpec;
  slot: string;
  /** Called once the slot exists, before any row is read: records its consistent point. */
  onCreated?(consistentPoint: Lsn): Promise<void>;
}

function lost(cause?: unknown): PgferryError {
  return new PgferryError('data', "the replication slot's snapshot was lost during the incremental copy", {
    hint: 'run the same command again: the copied tables are emptied and copied again in a new slot snapshot',
    cause,
  });
}

export class SlotSnapshot implements SnapshotSource {
  id = '';
  lineage = '';
  readonly replaced = false;
  session: pg.Client | undefined;
  /** The slot's consistent point, once created: the stream starts there. */
  consistentPoint: Lsn | undefined;
  private repl: pg.Client | undefined;
  private broken = false;

  constructor(private o: SlotSnapshotOptions) {}

  lineageOf(id: string): string {
    return id;
  }

  /** Creates the slot on the first call; a later call (a retried copy) reuses it while it lives. */
  async open(_previous: unknown): Promise<'imported' | 'new'> {
    if (this.repl && this.session && !this.broken) return 'imported';
    if (this.id) throw lost();
    const repl = await openReplicationSession(this.o.source, 'slot');
    repl.on('error', () => {
      this.broken = true;
    });
    repl.on('end', () => {
      this.broken = true;
    });
    try {
      const version = await serverVersionNum(repl);
      const slot = await createSlot(repl, this.o.slot, version);
      this.repl = repl;
      this.id = slot.snapshot;
      this.lineage = slot.snapshot;
      this.consistentPoint = slot.consistentPoint;
      await this.o.onCreated?.(slot.consistentPoint);
      const c = await connect(this.o.source, { label: 'source', role: 'snapshot' });
      await this.importInto(c);
      this.session = c;
      return 'new';
    } catch (e) {
      this.close();
      throw e;
    }
  }

  async renew(_lostId: string): Promise<void> {
    throw lost();
  }

  /** The session inside the slot's snapshot; a lost one cannot be renewed. */
  async held(): Promise<pg.Client> {
    if (this.broken || !this.session) throw lost();
    return this.session;
  }

  /** Never renewed: nothing to report. */
  onRenewed(_fn: OnNewSnapshot): () => void {
    return () => {};
  }

  close(): void {
    const s = this.session;
    const r = this.repl;
    this.session = undefined;
    this.repl = undefined;
    s?.end().catch(() => {});
    r?.end().catch(() => {});
  }

  async importInto(client: pg.Client): Promise<string> {
    if (this.broken) throw lost();
    try {
      await beginInSnapshot(client, this.id);
    } catch (e) {
      throw isPgError(e) && e.code === '22023' ? lost(e) : e;
    }
    return this.id;
  }
}

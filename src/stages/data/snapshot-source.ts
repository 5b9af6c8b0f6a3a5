/**
 * The source snapshot a run reads everything in: the catalog (precheck, schema, copy list,
 * sequences), the unit plan and every copy worker's rows. The runner opens it before the
 * precheck, so a table created or rows written on the source afterwards are part of no step of
 * the run (names are still resolved in the current catalog: a column dropped meanwhile fails).
 * `SnapshotSource` is what the stages need of it; `ExportedSnapshot` implements it with a session
 * that holds `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT pg_export_snapshot()` open
 * for the whole run (a replication slot's exported snapshot can be another implementation).
 * https://www.postgresql.org/docs/current/functions-admin.html#FUNCTIONS-SNAPSHOT-SYNCHRONIZATION
 */
import type pg from 'pg';
import type { ConnSpec } from '../../pg/connstring.js';
import { isPgError } from '../../core/errors.js';
import { quoteLiteral } from '../../core/ident.js';
import type { SnapshotRecord } from './copy/planstore.js';
import { isLostSnapshot, kill, openSession, SOURCE_SESSION } from './copy/sessions.js';

export { isLostSnapshot };

export interface SnapshotSource {
  /** The snapshot id sessions import now. */
  readonly id: string;
  /** The point in time of `id`: units copied in it record this (see SnapshotRecord). */
  readonly lineage: string;
  /** A later snapshot replaced the first one during this run. */
  readonly replaced: boolean;
  /** The session inside the snapshot (sizes, column types, sequences); undefined while lost. */
  readonly session: pg.Client | undefined;
  lineageOf(id: string): string;
  /** Open the snapshot, re-importing `previous` when it still exists. */
  open(previous: SnapshotRecord | null): Promise<'imported' | 'new'>;
  /** The snapshot `lostId` is gone: take a new one (once, however many callers noticed). */
  renew(lostId: string): Promise<void>;
  /** The session inside the snapshot, renewing the snapshot first when its session is known lost. */
  held(): Promise<pg.Client>;
  /** Call `fn` whenever a new snapshot replaces a lost one; returns the function that stops it. */
  onRenewed(fn: OnNewSnapshot): () => void;
  close(): void;
  /** Begin a REPEATABLE READ READ ONLY transaction on `client` in the snapshot; returns its id. */
  importInto(client: pg.Client): Promise<string>;
}

export type OnNewSnapshot = (id: string, reason: 'renewed') => Promise<void>;

const BEGIN = 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY';

/** Begin a REPEATABLE READ READ ONLY transaction on `c` in snapshot `id`; rolled back when the import fails. */
export async function beginInSnapshot(c: pg.Client, id: string): Promise<void> {
  await c.query(BEGIN);
  try {
    await c.query(`SET TRANSACTION SNAPSHOT ${quoteLiteral(id)}`);
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  }
}

/** A snapshot exported by a source session that holds it open. */
export class ExportedSnapshot implements SnapshotSource {
  session: pg.Client | undefined;
  id = '';
  lineage = '';
  replaced = false;
  private renewing?: Promise<void>;
  private lineages = new Map<string, string>();
  private listeners = new Set<OnNewSnapshot>();

  constructor(private spec: ConnSpec) {}

  lineageOf(id: string): string {
    return this.lineages.get(id) ?? id;
  }

  onRenewed(fn: OnNewSnapshot): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private hold(c: pg.Client, id: string, lineage: string): void {
    this.session = c;
    this.id = id;
    this.lineage = lineage;
    this.lineages.set(id, lineage);
  }

  async open(previous: SnapshotRecord | null): Promise<'imported' | 'new'> {
    const c = await openSession(this.spec, 'source', 'snapshot', SOURCE_SESSION);
    try {
      if (previous?.id && (await this.reimport(c, previous.id, previous.lineage))) return 'imported';
      await c.query(BEGIN);
      const r = await c.query<{ s: string }>('SELECT pg_export_snapshot() AS s');
      this.hold(c, r.rows[0].s, r.rows[0].s);
      return 'new';
    } catch (e) {
      kill(c);
      throw e;
    }
  }

  /** Import `previous` and export it again (a new id of the same lineage); false when it is gone. */
  private async reimport(c: pg.Client, id: string, lineage: string | null): Promise<boolean> {
    await c.query(BEGIN);
    try {
      await c.query(`SET TRANSACTION SNAPSHOT ${quoteLiteral(id)}`);
      const r = await c.query<{ s: string }>('SELECT pg_export_snapshot() AS s');
      this.hold(c, r.rows[0].s, lineage ?? id);
      return true;
    } catch (e) {
      if (!isPgError(e)) throw e;
      await c.query('ROLLBACK');
      return false;
    }
  }

  async renew(lostId: string): Promise<void> {
    if (this.id !== lostId) return;
    if (!this.renewing) {
      this.renewing = (async () => {
        kill(this.session);
        this.session = undefined;
        await this.open(null);
        this.replaced = true;
        for (const fn of [...this.listeners]) await fn(this.id, 'renewed');
      })().finally(() => {
        this.renewing = undefined;
      });
    }
    await this.renewing;
  }

  async held(): Promise<pg.Client> {
    if (!this.session) await this.renew(this.id);
    return this.session!;
  }

  close(): void {
    const c = this.session;
    this.session = undefined;
    if (c)
      c.query('COMMIT')
        .catch(() => {})
        .finally(() => c.end().catch(() => {}));
  }

  async importInto(client: pg.Client): Promise<string> {
    const id = this.id;
    try {
      await beginInSnapshot(client, id);
    } catch (e) {
      if (isLostSnapshot(e)) await this.renew(id);
      throw e;
    }
    return id;
  }
}

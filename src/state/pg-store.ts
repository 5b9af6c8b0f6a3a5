/**
 * The task store in a PostgreSQL database: tables in one schema (default pgferry_store) of the
 * database a connection string names, shared by every host that runs tasks (and a future server).
 * Leases use the database's clock, so hosts with skewed clocks still agree on expiry; a claim is
 * one INSERT … ON CONFLICT DO UPDATE … WHERE expired, which PostgreSQL runs under the row lock.
 */
import { hostname } from 'node:os';
import type pg from 'pg';
import { connect } from '../pg/connect.js';
import { resolveConnSpec } from '../pg/connstring.js';
import { isPgError, PgferryError } from '../core/errors.js';
import { qualify, quoteIdent, quoteLiteral } from '../core/ident.js';
import { redact } from '../core/redact.js';
import { scrubbedJson } from './scrub.js';
import { holderAlive } from './lease-file.js';
import { applyMigrations } from './migrate.js';
import { STORE_MARKER, STORE_SET, storeFormatDdl } from './pg-store-schema.js';
import {
  checkTaskId,
  initialFields,
  leaseLost,
  mergeInfo,
  newToken,
  noSuchTask,
  removedInfoKeys,
  taskExists,
  type Lease,
  type LeaseHolder,
  type TaskInit,
  type TaskPatch,
  type TaskRecord,
  type TaskStore,
} from './store.js';

export const DEFAULT_STORE_SCHEMA = 'pgferry_store';
const STORE_LOCK = `SELECT pg_advisory_xact_lock(hashtext('pgferry.taskstore'))`;

interface Row {
  task_id: string;
  status: string;
  phase: string | null;
  config: Record<string, unknown>;
  info: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
  rev: string;
}
const toRecord = (r: Row): TaskRecord => ({
  id: r.task_id,
  status: r.status,
  phase: r.phase,
  config: r.config,
  info: r.info,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
  rev: Number(r.rev),
});
const json = (v: unknown): string => scrubbedJson(v ?? {});
const leaseOf = (taskId: string, r: { holder: string; token: string; expires_at: Date }): Lease => ({
  taskId,
  holder: r.holder,
  token: r.token,
  expiresAt: r.expires_at.toISOString(),
});

/**
 * Is the lease's holder still connected to the store? Its session (the backend pid recorded at the
 * last claim or renewal) ends when its process dies, at once on a crash of a process whose host
 * lives on; pg_stat_activity shows every session's pid to every role. A lease of an older store
 * format (no pid) counts as connected.
 */
const connected = (l: string) =>
  `(${l}.session_pid IS NULL OR EXISTS (SELECT 1 FROM pg_stat_activity a
      WHERE a.pid = ${l}.session_pid AND a.datname = current_database()))`;

interface LeaseRow {
  holder: string;
  token: string;
  expires_at: Date;
}

export class PgTaskStore implements TaskStore {
  private client: Promise<pg.Client> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  /** Tokens of the leases this store holds: a new session records itself as their holder's. */
  private held = new Set<string>();

  constructor(
    readonly conninfo: string,
    readonly schema = DEFAULT_STORE_SCHEMA,
  ) {}

  private t(name: 'task' | 'lease'): string {
    return qualify(this.schema, name);
  }

  /** One session per store; operations run one at a time on it. */
  private run<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
    const next = this.queue.then(async () => fn(await (this.client ??= this.open())));
    this.queue = next.catch(() => {});
    return next;
  }

  /**
   * The session, opened on first use; a failed open is retried by the next operation, and a session
   * that ends (a restarted server, a terminated backend) is opened again by the next one.
   */
  private open(): Promise<pg.Client> {
    const p = this.connectReady();
    const forget = () => {
      if (this.client === p) this.client = undefined;
    };
    p.then((c) => c.once('end', forget), forget);
    return p;
  }

  private async connectReady(): Promise<pg.Client> {
    const c = await connect(resolveConnSpec(this.conninfo), { label: 'task store', role: 'task-store' });
    try {
      await this.ensureSchema(c);
      // a session that replaces a lost one (a restarted store server) speaks for this store's leases
      if (this.held.size) {
        await c.query(`UPDATE ${this.t('lease')} SET session_pid = pg_backend_pid() WHERE token = ANY($1::text[])`, [
          [...this.held],
        ]);
      }
      return c;
    } catch (e) {
      await c.end().catch(() => {});
      throw e;
    }
  }

  /** Create the schema (or bring it to the current layout) under an advisory lock. */
  private async ensureSchema(c: pg.Client): Promise<void> {
    const s = quoteIdent(this.schema);
    await c.query('BEGIN');
    try {
      await c.query(STORE_LOCK);
      await this.refuseForeign(c);
      await c.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
      await c.query(storeFormatDdl(s, quoteLiteral(STORE_MARKER)));
      await applyMigrations(c, this.schema, STORE_SET);
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK').catch(() => {});
      throw e;
    }
  }

  /** A schema of that name holding objects but no marked store_format table is not pgferry's. */
  private async refuseForeign(c: pg.Client): Promise<void> {
    const r = await c.query<{ objects: number; ours: boolean }>(
      `SELECT (SELECT count(*)::int FROM pg_class k WHERE k.relnamespace = n.oid) AS objects,
              EXISTS (SELECT 1 FROM pg_class k WHERE k.relnamespace = n.oid AND k.relname = 'store_format'
                        AND pg_catalog.obj_description(k.oid, 'pg_class') = $2) AS ours
         FROM pg_namespace n WHERE n.nspname = $1`,
      [this.schema, STORE_MARKER],
    );
    const x = r.rows[0];
    if (x && x.objects > 0 && !x.ours) {
      throw new PgferryError('state', `schema ${quoteIdent(this.schema)} exists and is not a pgferry task store`, {
        hint: 'name another schema for the task store',
      });
    }
  }

  list(): Promise<TaskRecord[]> {
    return this.run(async (c) =>
      (await c.query<Row>(`SELECT * FROM ${this.t('task')} ORDER BY task_id`)).rows.map(toRecord),
    );
  }

  async get(id: string): Promise<TaskRecord | undefined> {
    checkTaskId(id);
    return this.run(async (c) => {
      const r = await c.query<Row>(`SELECT * FROM ${this.t('task')} WHERE task_id = $1`, [id]);
      return r.rows[0] && toRecord(r.rows[0]);
    });
  }

  async create(id: string, init: TaskInit): Promise<TaskRecord> {
    checkTaskId(id);
    const f = initialFields(init);
    return this.run(async (c) => {
      const r = await c.query<Row>(
        `INSERT INTO ${this.t('task')} (task_id, status, phase, config, info)
         SELECT $1, $2, $3, $4::jsonb, $5::jsonb ON CONFLICT (task_id) DO NOTHING RETURNING *`,
        [id, f.status, f.phase, json(f.config), json(f.info)],
      );
      if (!r.rows.length) throw taskExists(id);
      return toRecord(r.rows[0]);
    });
  }

  async update(id: string, patch: TaskPatch, lease?: Lease): Promise<TaskRecord> {
    checkTaskId(id);
    return this.run(async (c) => {
      const r = await c.query<Row>(
        `UPDATE ${this.t('task')} t SET status = coalesce($2, t.status),
                phase = CASE WHEN $3::boolean THEN $4 ELSE t.phase END, config = coalesce($5::jsonb, t.config),
                info = (t.info || $6::jsonb) - $8::text[], updated_at = clock_timestamp(), rev = t.rev + 1
          WHERE t.task_id = $1 AND ($7::text IS NULL OR EXISTS (SELECT 1 FROM ${this.t('lease')} l
                  WHERE l.task_id = t.task_id AND l.token = $7 AND l.expires_at > clock_timestamp()))
         RETURNING *`,
        [
          id,
          patch.status ?? null,
          patch.phase !== undefined,
          patch.phase ?? null,
          patch.config ? json(patch.config) : null,
          json(mergeInfo({}, patch.info)),
          lease?.token ?? null,
          removedInfoKeys(patch),
        ],
      );
      if (r.rows.length) return toRecord(r.rows[0]);
      const exists = await c.query(`SELECT 1 FROM ${this.t('task')} WHERE task_id = $1`, [id]);
      throw exists.rows.length && lease ? leaseLost(lease) : noSuchTask(id);
    });
  }

  /**
   * Claim the task: when nobody holds it, its lease expired, or its holder is gone — its session on
   * the store ended, or its process on this host is dead.
   */
  async lease(id: string, holder: string, ttlMs: number): Promise<Lease | undefined> {
    checkTaskId(id);
    return this.run(async (c) => {
      const prev = await c.query<{ token: string; holder_pid: number | null; holder_host: string | null }>(
        `SELECT token, holder_pid, holder_host FROM ${this.t('lease')} WHERE task_id = $1`,
        [id],
      );
      const p = prev.rows[0];
      const dead = p && p.holder_pid !== null && !holderAlive({ pid: p.holder_pid, host: p.holder_host ?? undefined });
      try {
        const r = await c.query<LeaseRow>(
          `INSERT INTO ${this.t('lease')} AS l (task_id, holder, token, expires_at, session_pid, holder_pid, holder_host,
                  renewed_at)
           VALUES ($1, $2, $3, clock_timestamp() + $4 * interval '1 millisecond', pg_backend_pid(), $5, $6,
                  clock_timestamp())
           ON CONFLICT (task_id) DO UPDATE SET holder = EXCLUDED.holder, token = EXCLUDED.token,
                  expires_at = EXCLUDED.expires_at, session_pid = EXCLUDED.session_pid,
                  holder_pid = EXCLUDED.holder_pid, holder_host = EXCLUDED.holder_host, renewed_at = EXCLUDED.renewed_at
            WHERE l.expires_at <= clock_timestamp() OR NOT ${connected('l')} OR l.token = $7
           RETURNING holder, token, expires_at`,
          [id, redact(holder), newToken(), ttlMs, process.pid, hostname(), dead ? p.token : null],
        );
        const got = r.rows[0] && leaseOf(id, r.rows[0]);
        if (got) this.held.add(got.token);
        return got;
      } catch (e) {
        if (isPgError(e) && e.code === '23503') throw noSuchTask(id);
        throw e;
      }
    });
  }

  renew(lease: Lease, ttlMs: number): Promise<Lease> {
    return this.run(async (c) => {
      const r = await c.query<LeaseRow>(
        `UPDATE ${this.t('lease')} SET expires_at = clock_timestamp() + $3 * interval '1 millisecond',
                session_pid = pg_backend_pid(), renewed_at = clock_timestamp()
          WHERE task_id = $1 AND token = $2 RETURNING holder, token, expires_at`,
        [lease.taskId, lease.token, ttlMs],
      );
      if (!r.rows.length) {
        this.held.delete(lease.token);
        throw leaseLost(lease);
      }
      return leaseOf(lease.taskId, r.rows[0]);
    });
  }

  release(lease: Lease): Promise<void> {
    return this.run(async (c) => {
      await c.query(`DELETE FROM ${this.t('lease')} WHERE task_id = $1 AND token = $2`, [lease.taskId, lease.token]);
      this.held.delete(lease.token);
    });
  }

  /**
   * The live lease's holder: none when the lease expired or its holder is gone (as `lease` sees it);
   * `unreachable` when the holder, not known gone, has missed two thirds of its time without a renewal.
   */
  async currentLease(id: string): Promise<LeaseHolder | undefined> {
    checkTaskId(id);
    return this.run(async (c) => {
      const r = await c.query<
        LeaseRow & { holder_pid: number | null; holder_host: string | null; connected: boolean; silent: boolean }
      >(
        `SELECT holder, '' AS token, expires_at, holder_pid, holder_host, ${connected('l')} AS connected,
                coalesce(clock_timestamp() > renewed_at + (expires_at - renewed_at) * 2 / 3, false) AS silent
           FROM ${this.t('lease')} l
          WHERE task_id = $1 AND expires_at > clock_timestamp()`,
        [id],
      );
      const row = r.rows[0];
      if (!row?.connected) return undefined;
      if (row.holder_pid !== null && !holderAlive({ pid: row.holder_pid, host: row.holder_host ?? undefined })) {
        return undefined;
      }
      const { token: _, ...held } = leaseOf(id, row);
      return row.silent ? { ...held, unreachable: true } : held;
    });
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    await this.queue;
    if (c) await (await c.catch(() => undefined))?.end().catch(() => {});
  }
}

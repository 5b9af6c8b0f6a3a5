/**
 * Numbered schema migrations: a list of SQL steps, each applied once, in order, with the version
 * reached recorded as a row of a version table in the same schema. The caller holds a transaction
 * and an advisory lock, so two sessions never apply the same step twice and a failed step leaves
 * nothing behind (DDL is transactional in PostgreSQL).
 */
import type pg from 'pg';
import { PgferryError } from '../core/errors.js';
import { qualify, quoteIdent } from '../core/ident.js';

export interface Migration {
  /** 1, 2, 3…: consecutive, never renumbered once released. */
  version: number;
  name: string;
  /** The step's SQL for the schema, given quoted. */
  sql(schema: string): string;
}

export interface MigrationSet {
  /** What the schema is, for messages ("checkpoint schema"). */
  what: string;
  /** Table (in the schema) with a `version int` column: one row per version reached. */
  versionTable: string;
  migrations: readonly Migration[];
}

/** The version the newest step of the set brings a schema to. */
export const latestVersion = (set: MigrationSet): number => set.migrations.reduce((v, m) => Math.max(v, m.version), 0);

/** The version a schema has reached (0: no version table or no row). */
export async function schemaVersion(c: pg.Client, schema: string, set: MigrationSet): Promise<number> {
  const t = qualify(schema, set.versionTable);
  const exists = (await c.query(`SELECT to_regclass($1) IS NOT NULL AS ok`, [t])).rows[0].ok === true;
  if (!exists) return 0;
  const r = await c.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${t}`);
  return r.rows[0].v ?? 0;
}

/** Apply the steps the schema has not reached yet; returns the versions applied now. */
export async function applyMigrations(c: pg.Client, schema: string, set: MigrationSet): Promise<number[]> {
  const have = await schemaVersion(c, schema, set);
  const latest = latestVersion(set);
  if (have > latest) {
    const what = `${set.what} ${quoteIdent(schema)} has format ${have}, newer than this pgferry's ${latest}`;
    throw new PgferryError('state', what, { hint: 'run the task with the pgferry version that started it' });
  }
  const todo = [...set.migrations].filter((m) => m.version > have).sort((a, b) => a.version - b.version);
  for (const m of todo) {
    await c.query(m.sql(quoteIdent(schema)));
    await c.query(`INSERT INTO ${qualify(schema, set.versionTable)} (version) VALUES ($1)`, [m.version]);
  }
  return todo.map((m) => m.version);
}

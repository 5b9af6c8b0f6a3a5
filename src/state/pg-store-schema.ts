/**
 * Tables of the PostgreSQL task store, as numbered migrations (src/state/migrate.ts) recorded in
 * <schema>.store_format. Add steps at the end; never edit a released one.
 */
import type { MigrationSet } from './migrate.js';

export const STORE_MARKER = 'pgferry task store marker';

const initial = (s: string) => `
CREATE TABLE IF NOT EXISTS ${s}.task (
  task_id     text PRIMARY KEY,
  status      text NOT NULL,
  phase       text,
  config      jsonb NOT NULL DEFAULT '{}',
  info        jsonb NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  updated_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  rev         bigint NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS ${s}.lease (
  task_id     text PRIMARY KEY REFERENCES ${s}.task ON DELETE CASCADE,
  holder      text NOT NULL,
  token       text NOT NULL,
  expires_at  timestamptz NOT NULL
);`;

/**
 * Who holds a lease, to tell a dead holder at once: the holder's session on the store (its backend pid,
 * gone from pg_stat_activity when the process dies), its process and host, and the last renewal.
 */
const holderSession = (s: string) => `
ALTER TABLE ${s}.lease ADD COLUMN IF NOT EXISTS session_pid int;
ALTER TABLE ${s}.lease ADD COLUMN IF NOT EXISTS holder_pid int;
ALTER TABLE ${s}.lease ADD COLUMN IF NOT EXISTS holder_host text;
ALTER TABLE ${s}.lease ADD COLUMN IF NOT EXISTS renewed_at timestamptz;`;

export const STORE_SET: MigrationSet = {
  what: 'task store schema',
  versionTable: 'store_format',
  migrations: [
    { version: 1, name: 'tasks and leases', sql: initial },
    { version: 2, name: "leases name their holder's session", sql: holderSession },
  ],
};

/** The version table itself, marked as pgferry's (created before the first step). */
export const storeFormatDdl = (s: string, marker: string) => `
CREATE TABLE IF NOT EXISTS ${s}.store_format (version int NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
COMMENT ON TABLE ${s}.store_format IS ${marker};`;

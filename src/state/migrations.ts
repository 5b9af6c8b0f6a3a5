/**
 * The layout of the target's checkpoint schema, as numbered migrations (src/state/migrate.ts).
 * Version 1 is the layout of pgferry releases before numbered migrations: its `format` table
 * holds the row `1` (or, for a schema created before the marker, none: the marker is added
 * first and the schema counts as version 1 when its tables exist). Add a step at the end to
 * change the layout; never edit a released step.
 */
import type { Migration, MigrationSet } from './migrate.js';

const initial = (s: string) => `
CREATE TABLE IF NOT EXISTS ${s}.task (
  task_id     text PRIMARY KEY,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  status      text NOT NULL DEFAULT 'running',
  phase       text,
  snapshot    text,
  source      text,
  info        jsonb NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS ${s}.unit (
  task_id     text NOT NULL,
  unit_id     text NOT NULL,
  table_name  text NOT NULL,
  rows        bigint NOT NULL,
  bytes       bigint NOT NULL,
  snapshot    text,
  done_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (task_id, unit_id)
);
CREATE TABLE IF NOT EXISTS ${s}.object (
  task_id     text NOT NULL,
  object_key  text NOT NULL,
  kind        text NOT NULL,
  section     text NOT NULL,
  done_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (task_id, object_key)
);`;

// Version 1 created unit_plan only when the first table was planned: a version-1 schema may lack it.
const unitPlan = (s: string) => `
CREATE TABLE IF NOT EXISTS ${s}.unit_plan (
  task_id     text NOT NULL,
  table_name  text NOT NULL,
  boundaries  int8[] NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (task_id, table_name)
);
CREATE INDEX IF NOT EXISTS unit_task_table ON ${s}.unit (task_id, table_name);`;

// Incremental tasks: the slot and publication they own, where the apply stands (LSN committed with the changes).
const changeCapture = (s: string) => `
CREATE TABLE IF NOT EXISTS ${s}.cdc (
  task_id          text PRIMARY KEY,
  slot             text NOT NULL,
  publication      text NOT NULL,
  state            text NOT NULL DEFAULT 'copy',
  start_lsn        pg_lsn,
  applied_lsn      pg_lsn,
  applied_commit   timestamptz,
  applied_at       timestamptz,
  applied_txns     bigint NOT NULL DEFAULT 0,
  stop_lsn         pg_lsn,
  lag              jsonb NOT NULL DEFAULT '{}'
);`;

export const CHECKPOINT_MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'initial', sql: initial },
  { version: 2, name: 'unit plans with the other tables; units by table', sql: unitPlan },
  { version: 3, name: 'change capture position of incremental tasks', sql: changeCapture },
];

export const CHECKPOINT_SET: MigrationSet = {
  what: 'checkpoint schema',
  versionTable: 'format',
  migrations: CHECKPOINT_MIGRATIONS,
};

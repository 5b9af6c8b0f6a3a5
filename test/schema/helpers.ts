import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { Cluster } from '../../src/dev/embedded/cluster.js';
import { validateTask, type TaskConfig } from '../../src/core/config.js';

export const PG_DUMP = process.env.PGFERRY_PG_DUMP ?? '/usr/bin/pg_dump';
export const PSQL = process.env.PGFERRY_PSQL ?? '/usr/bin/psql';

export function fixture(version: number): string {
  let sql = readFileSync(fileURLToPath(new URL('./fixtures/kitchen-sink.sql', import.meta.url)), 'utf8');
  for (const [tag, min] of [
    ['pg13+', 13],
    ['pg15+', 15],
  ] as const) {
    const re = new RegExp(`-- ${tag.replace('+', '\\+')}\\n[\\s\\S]*?-- end ${tag.replace('+', '\\+')}\\n`, 'g');
    if (version < min) sql = sql.replace(re, '');
  }
  return sql;
}

export async function client(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  c.on('error', () => {});
  await c.connect();
  return c;
}

export async function createDb(cluster: Cluster, name: string): Promise<string> {
  const c = await client(cluster.url());
  try {
    await c.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } finally {
    await c.end();
  }
  return cluster.url(name);
}

export async function runSql(url: string, sql: string): Promise<void> {
  const c = await client(url);
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

export function task(over: Record<string, unknown> = {}): TaskConfig {
  return validateTask({ source: 'postgres://x/src', target: 'postgres://x/tgt', ...over });
}

/** pg_dump --schema-only of a database, normalised for comparison. */
export function dump(url: string, opts: { acl?: boolean } = {}): string {
  const args = [
    '--schema-only',
    '--no-owner',
    ...(opts.acl ? [] : ['--no-acl']),
    '--exclude-schema=pgferry',
    '-d',
    url,
  ];
  const r = spawnSync(PG_DUMP, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`pg_dump failed: ${r.stderr}`);
  return normalise(r.stdout);
}

export function normalise(text: string): string {
  return text
    .split('\n')
    .filter((l) => !/^\\(un)?restrict /.test(l) && !/^-- Dumped (from|by)/.test(l))
    .join('\n');
}

export function psql(url: string, script: string): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(PSQL, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url], { input: script, encoding: 'utf8' });
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

/** First differing lines of two texts, for assertion messages. */
export function diff(a: string, b: string): string {
  const x = a.split('\n');
  const y = b.split('\n');
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if (x[i] !== y[i])
      return `line ${i + 1}:\n  source: ${x.slice(i, i + 6).join('\n          ')}\n  target: ${y.slice(i, i + 6).join('\n          ')}`;
  }
  return '';
}

/** A dump as a sorted list of object bodies (pg_dump's "-- Name: …" headers dropped): order-free comparison. */
export function blocks(text: string): string[] {
  return text
    .split(/\n--\n-- (?:Name|TOC entry)[^\n]*\n--\n/)
    .slice(1)
    .map((b) => b.trim())
    .filter(Boolean)
    .sort();
}

/** Run the pgferry CLI in-process-free (through tsx), returning its output. */
export function cli(args: string[]): { status: number; stdout: string; stderr: string } {
  const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `const { main } = await import(${JSON.stringify(main)}); await main(['node', 'pgferry', ...JSON.parse(process.env.PGFERRY_TEST_ARGS)]);`,
    ],
    { encoding: 'utf8', env: { ...process.env, PGFERRY_TEST_ARGS: JSON.stringify(args), NODE_OPTIONS: '' } },
  );
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

/** Roles the fixture grants to (roles are per cluster: create them on source and target clusters). */
export async function createRoles(cluster: Cluster): Promise<void> {
  await runSql(
    cluster.url(),
    `DO $$ BEGIN CREATE ROLE "Reader Röle"; EXCEPTION WHEN duplicate_object THEN NULL; END $$`,
  );
}

/** Version formatting differences of the servers' deparsers, normalised away (12 → 17 comparisons). */
// PostgreSQL 16+ no longer prefixes column references with the relation name when one relation
// is in scope ("customer.mood" → "mood"): drop relation qualifiers that are not schema names.
const SCHEMAS = new Set(['app', 'public', 'pg_catalog', 'fid', 'fid_type']);
export function normaliseDdl(sql: string): string {
  // PostgreSQL 14+ prints IN for procedure arguments.
  sql = sql.replace(/([(,] ?)IN (?=\w+ )/g, '$1');
  return sql.replace(/(?<![\w."])([a-z_][a-z0-9_]*)\.(?=[a-z_"])/g, (m, q: string) => (SCHEMAS.has(q) ? m : ''));
}

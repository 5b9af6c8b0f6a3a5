/**
 * Selection tests: one PostgreSQL 15 cluster, a fresh source/target database pair per test,
 * migrations run through the CLI in-process as a read-only source account and a target
 * account that owns the target database and is no superuser.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { cliInProcess, type CliRun } from '../cli/run.js';
import type { Cluster } from '../../src/dev/embedded/cluster.js';

export const RO = 'sel_reader';
export const OWNER = 'sel_owner';

export async function sql(url: string, text: string, values?: unknown[]): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await c.query(text, values);
  } finally {
    await c.end();
  }
}

export async function createRoles(cl: Cluster): Promise<void> {
  await sql(cl.url(), `CREATE ROLE ${RO} LOGIN; CREATE ROLE ${OWNER} LOGIN`);
}

export interface Pair {
  src: string;
  tgt: string;
  srcSuper: string;
  tgtSuper: string;
}

let n = 0;

/** A source database built by `setup` (as superuser, then readable by RO) and an empty target owned by OWNER. */
export async function pair(cl: Cluster, setup: string): Promise<Pair> {
  const id = ++n;
  const sdb = `sel_src_${id}`;
  const tdb = `sel_tgt_${id}`;
  await sql(cl.url(), `CREATE DATABASE ${sdb}`);
  await sql(cl.url(), `CREATE DATABASE ${tdb} OWNER ${OWNER}`);
  await sql(cl.url(sdb), setup);
  await sql(
    cl.url(sdb),
    `DO $$DECLARE s text; BEGIN
    FOR s IN SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' LOOP
      EXECUTE format('GRANT USAGE ON SCHEMA %I TO ${RO}', s);
      EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO ${RO}', s);
      EXECUTE format('GRANT SELECT ON ALL SEQUENCES IN SCHEMA %I TO ${RO}', s);
    END LOOP; END$$`,
  );
  return { src: cl.url(sdb, RO), tgt: cl.url(tdb, OWNER), srcSuper: cl.url(sdb), tgtSuper: cl.url(tdb) };
}

export type CliResult = CliRun;

/** Run `pgferry <argv>` in this process, capturing its output and exit code. */
export const cli = (argv: string[]): Promise<CliResult> => cliInProcess(argv);

const stateRoot = mkdtempSync(join(tmpdir(), 'pgferry-selection-'));

export function cleanup(): void {
  rmSync(stateRoot, { recursive: true, force: true });
}

/** `pgferry migrate` from p.src to p.tgt without owners and grants (the target account is no superuser). */
export function migrate(p: Pair, ...flags: string[]): Promise<CliResult> {
  const common = ['--state-dir', stateRoot, '--no-owner', '--no-acl', '--json'];
  return cli(['migrate', '-s', p.src, '-t', p.tgt, ...common, ...flags]);
}

/** A task file in the temp dir; its state dir is the temp dir too. */
export function taskFile(name: string, text: string): string {
  const f = join(stateRoot, name);
  writeFileSync(f, `${text}stateDir: ${JSON.stringify(stateRoot)}\n`);
  return f;
}

/** Every user object on a database: schemas, relations (with kind), types, functions, triggers. */
export async function objectsOf(url: string): Promise<string[]> {
  const r = await sql(
    url,
    `
    SELECT 'schema ' || nspname AS o FROM pg_namespace
     WHERE nspname NOT LIKE 'pg\\_%' AND nspname NOT IN ('information_schema', 'pgferry')
    UNION ALL
    SELECT 'rel ' || c.relkind::text || ' ' || n.nspname || '.' || c.relname
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname NOT IN ('information_schema', 'pgferry')
       AND c.relkind NOT IN ('t', 'c')
    UNION ALL
    SELECT 'type ' || t.typtype::text || ' ' || n.nspname || '.' || t.typname
     FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
     WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname NOT IN ('information_schema', 'pgferry')
       AND t.typtype IN ('e', 'd', 'c', 'r')
       AND (t.typtype <> 'c' OR EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind = 'c'))
    UNION ALL
    SELECT 'function ' || p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname NOT IN ('information_schema', 'pgferry')
    UNION ALL
    SELECT 'trigger ' || t.tgname || ' on ' || t.tgrelid::regclass::text FROM pg_trigger t WHERE NOT t.tgisinternal
    ORDER BY 1`,
  );
  return r.rows.map((x) => x.o as string);
}

/** Nothing was written: no pgferry schema and no user object. */
export async function assertUntouched(url: string): Promise<void> {
  const r = await sql(
    url,
    `SELECT (SELECT count(*) FROM pg_namespace WHERE nspname = 'pgferry')::int AS ferry,
    (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema')::int AS rels`,
  );
  if (r.rows[0].ferry !== 0 || r.rows[0].rels !== 0) {
    throw new Error(`target was written to: ${JSON.stringify(r.rows[0])}`);
  }
}

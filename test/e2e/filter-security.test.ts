// Row filters can only filter rows: every escape is refused by plan, precheck, migrate and verify
// before anything reaches the source, and legitimate filters work end to end for non-superusers.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { main } from '../../src/cli/main.js';
import { copyTable, sql } from '../copy/helpers.js';
import { withClient } from '../helpers/compare.js';
import { taskSchema } from '../../src/core/config.js';
import { runPrecheck } from '../../src/stages/precheck/index.js';
import { sourceCopySql, unitSelect, unitsFromBoundaries } from '../../src/stages/data/plan/units.js';
import { prepareTable } from '../../src/stages/verify/data.js';

let pgc: Cluster;
let dir: string;
const marker = () => join(dir, 'pwned_file');

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pgferry-filter-'));
  chmodSync(dir, 0o777); // the server (OS user postgres) could write here if an escape ran
  pgc = await startCluster({ version: 15, settings: { log_statement: "'all'" } });
  await sql(pgc.url(), `CREATE DATABASE app`);
  await sql(pgc.url(), `CREATE ROLE reader LOGIN; CREATE ROLE owner LOGIN`);
  await sql(pgc.url(), `CREATE DATABASE app_tgt OWNER owner`);
  await sql(
    pgc.url('app'),
    `
    CREATE TABLE events (id int PRIMARY KEY, created_at timestamptz NOT NULL, status text, name text, x int);
    INSERT INTO events SELECT g, timestamptz '2023-12-01' + g * interval '1 day', (ARRAY['a','b','c'])[g % 3 + 1],
      (ARRAY['alpha','Beta','gamma','Aria'])[g % 4 + 1], CASE WHEN g % 5 = 0 THEN NULL ELSE g % 7 END
      FROM generate_series(1, 400) g;
    REVOKE ALL ON DATABASE app FROM PUBLIC; GRANT CONNECT ON DATABASE app TO reader;
    GRANT USAGE ON SCHEMA public TO reader; GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader;`,
  );
});

after(async () => {
  await pgc?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Run the CLI in-process; returns exit code, stdout and stderr. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const o: string[] = [];
  const e: string[] = [];
  const w1 = process.stdout.write.bind(process.stdout);
  const w2 = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((c: string | Uint8Array) => (o.push(String(c)), true)) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => (e.push(String(c)), true)) as typeof process.stderr.write;
  process.exitCode = 0;
  try {
    await main(['node', 'pgferry', ...args]);
  } finally {
    process.stdout.write = w1;
    process.stderr.write = w2;
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { code, stdout: o.join(''), stderr: e.join('') };
}

let n = 0;
function taskFile(source: string, target: string, tables: Record<string, string>): string {
  const p = join(dir, `task${++n}.json`);
  const t = Object.fromEntries(Object.entries(tables).map(([k, where]) => [k, { where }]));
  writeFileSync(
    p,
    JSON.stringify({
      name: `t${n}`,
      source,
      target,
      stateDir: join(dir, 'state'),
      noOwner: true,
      noAcl: true,
      includeSchemas: ['public'],
      tables: t,
    }),
  );
  return p;
}

/** Each would create a table, write a file, sleep, or change the session if it reached the source. */
const ESCAPES = [
  `1=1) ; CREATE TABLE pwned1(); --`,
  `1=1) ; SET default_transaction_read_only = off; CREATE TABLE pwned2(); --`,
  `true; COMMIT; CREATE TABLE pwned3()`,
  `true) ; COMMIT; SET default_transaction_read_only = off; CREATE TABLE pwned4(); SELECT (1`,
  `1=1)) UNION SELECT 1 FROM pwned5 WHERE ((1=1`,
  `1=1) OR (1=1 AND 'pwned6' = ''`,
  `1=1 /* ) ; CREATE TABLE pwned7(); */`,
  `id > 0 -- ) ; CREATE TABLE pwned8()`,
  `id > 0 --\n) ; CREATE TABLE pwned9(); SELECT (1`,
  `x = $$ ) ; CREATE TABLE pwned10(); --`,
  `$q$ $q$ = '' ) ; CREATE TABLE pwned11(); SELECT ( $q$`,
  `E'\\'' ) ; CREATE TABLE pwned12(); --' = ''`,
  `'\\' ) ; CREATE TABLE pwned13(); SELECT ('' = ''`,
  `(SELECT 1 FROM (COPY events TO PROGRAM 'touch DIR/pwned_file')) = 1`,
  `1=1) ; COPY (SELECT 1) TO PROGRAM 'touch DIR/pwned_file'; --`,
  `EXISTS (WITH d AS (INSERT INTO events (id, created_at) VALUES (-1, now()) RETURNING 1) SELECT 'pwned14' FROM d)`,
  `id IN (SELECT id FROM events WHERE name = 'pwned15')`,
  `pg_sleep(3) IS NOT NULL AND 'pwned16' = 'pwned16'`,
  `lo_export(lo_from_bytea(0, 'x'), 'DIR/pwned_file') > 0`,
  `set_config('default_transaction_read_only', 'off', false) = 'pwned17'`,
  `pg_catalog.pg_read_file('/etc/passwd') <> 'pwned18'`,
  `query_to_xml('CREATE TABLE pwned19()', true, true, '') IS NOT NULL`,
  `dblink_exec('dbname=app', 'CREATE TABLE pwned20()') = 'OK'`,
  `count(*) OVER () > 0 AND 'pwned21' = ''`,
  `1=1) FOR UPDATE; SELECT ('pwned22' = ''`,
  `id = $1 AND 'pwned23' = ''`,
];

test('every escape is refused by plan, precheck, migrate and verify, and nothing reaches the source', async () => {
  const logBefore = readFileSync(pgc.logFile, 'utf8').length;
  for (const raw of ESCAPES) {
    const where = raw.replaceAll('DIR', dir);
    const file = taskFile(pgc.url('app'), pgc.url('app_tgt'), { 'public.events': where });
    for (const cmd of ['plan', 'precheck', 'migrate', 'verify']) {
      const r = await cli([cmd, '--task', file]);
      assert.equal(r.code, 2, `${cmd} ${JSON.stringify(where)}: exit ${r.code}\n${r.stderr}`);
      assert.match(r.stderr, /tables\.public\.events\.where: row filter .* refused: /, `${cmd}: ${r.stderr}`);
      assert.match(
        r.stderr,
        new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+: `),
        'names the task file and line',
      );
      assert.match(r.stderr, /fix: write the filter as one boolean expression/);
    }
  }
  const log = readFileSync(pgc.logFile, 'utf8').slice(logBefore);
  assert.doesNotMatch(log, /pwned/, 'no filter text reached the server');
  const rels = await sql(
    pgc.url('app'),
    `SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace ORDER BY 1`,
  );
  assert.deepEqual(
    rels.rows.map((x) => x.relname),
    ['events', 'events_pkey'],
  );
  assert.equal(existsSync(marker()), false, 'no file written on the source host');
  const rows = await sql(pgc.url('app'), `SELECT count(*)::int AS n FROM events`);
  assert.equal(rows.rows[0].n, 400);
});

const LEGIT: Record<string, string> = {
  f_date: `created_at >= '2024-01-01'`,
  f_mod: `id % 2 = 0`,
  f_in: `status IN ('a','b')`,
  f_like: `lower(name) LIKE 'a%'`,
  f_coalesce: `coalesce(x,0) > 3`,
  f_cast: `x::int > 2 AND CAST(id AS text) LIKE '1%'`,
  f_interval: `created_at < now() - interval '1 day' AND created_at > timestamptz '2024-06-01' - interval '30 days'`,
  f_quoted: `name <> 'O''Brien' AND name <> $tag$;--)$tag$ AND name <> E'\\\\x' AND name <> 'alpha'`,
};

test('legitimate filters work through plan, precheck, migrate and verify as non-superusers', async () => {
  const tables = Object.keys(LEGIT);
  await sql(
    pgc.url('app'),
    tables
      .map(
        (t) => `CREATE TABLE ${t} AS SELECT * FROM events; ALTER TABLE ${t} ADD PRIMARY KEY (id);
    GRANT SELECT ON ${t} TO reader;`,
      )
      .join('\n'),
  );
  const source = pgc.url('app', 'reader');
  const target = pgc.url('app_tgt', 'owner');
  const file = taskFile(source, target, Object.fromEntries(tables.map((t) => [`public.${t}`, LEGIT[t]])));
  const logBefore = readFileSync(pgc.logFile, 'utf8').length;
  for (const cmd of ['plan', 'precheck', 'migrate --json', 'verify --mode count', 'verify --mode hash']) {
    const r = await cli([...cmd.split(' '), '--task', file]);
    assert.equal(r.code, 0, `${cmd}: exit ${r.code}\n${r.stderr}\n${r.stdout.slice(-3000)}`);
  }
  for (const t of tables) {
    const want = await sql(pgc.url('app'), `SELECT count(*)::int AS n FROM ${t} WHERE ${LEGIT[t]}`);
    const got = await sql(pgc.url('app_tgt'), `SELECT count(*)::int AS n FROM ${t}`);
    assert.ok(want.rows[0].n > 0 && want.rows[0].n < 400, `${t}: the filter selects some rows (${want.rows[0].n})`);
    assert.equal(got.rows[0].n, want.rows[0].n, `${t}: target rows = filtered source rows`);
  }
  // verify's filtered source queries go through the extended protocol (one statement per message).
  const log = readFileSync(pgc.logFile, 'utf8').slice(logBefore);
  // Small tables are counted in batches: `SELECT (SELECT count(*) … WHERE (filter)) AS c0, …`.
  assert.match(log, /execute <unnamed>: SELECT .*count\(\*\) AS n FROM public\.f_mod WHERE \(id % 2 = 0\)/);
  assert.doesNotMatch(log, /statement: SELECT .*count\(\*\) AS n FROM public\.f_mod/);
});

test('a filter that got past task loading is refused again where it enters a query', async () => {
  const bad = `1=1) ; CREATE TABLE pwned_late(); --`;
  // taskSchema.parse skips validateTask: as if a task object were built some other way.
  const task = taskSchema.parse({
    source: pgc.url('app'),
    target: pgc.url('app_tgt'),
    includeSchemas: ['public'],
    noOwner: true,
    noAcl: true,
    tables: { 'public.events': { where: bad } },
  });
  const logBefore = readFileSync(pgc.logFile, 'utf8').length;
  const pre = await runPrecheck(task);
  const item = pre.items.find((i) => i.id === 'filters.where');
  assert.equal(item?.result, 'failed');
  assert.match(item!.objects.join('\n'), /tables\.public\.events\.where: row filter .* refused: a "\)" that closes/);
  const table = copyTable('public', 'events', [{ name: 'id', type: 'integer' }], true, { where: bad });
  const unit = unitsFromBoundaries(table, [0], undefined)[0];
  assert.throws(() => sourceCopySql(unit, 'binary'), /refused/);
  assert.throws(() => unitSelect(unit), /refused/);
  await withClient(pgc.url('app'), (s) =>
    withClient(pgc.url('app_tgt'), async (t) => {
      const job = { table, mode: 'count' as const, examples: 0, chunkRows: 100, exampleFetchLimit: 10 };
      await assert.rejects(prepareTable(s, t, job), /refused/);
      await assert.rejects(prepareTable(s, t, { ...job, mode: 'hash' }), /refused/);
    }),
  );
  const log = readFileSync(pgc.logFile, 'utf8').slice(logBefore);
  assert.doesNotMatch(log, /pwned/);
});

test('a real migrate with umask 000 leaves only 0700 directories and 0600 files in its state dir', async () => {
  await sql(pgc.url(), `CREATE DATABASE app_priv OWNER owner`);
  const stateDir = join(dir, 'private-state', '.pgferry');
  const old = process.umask(0o000);
  try {
    const r = await cli([
      'migrate',
      '--json',
      '--name',
      'priv',
      '--state-dir',
      stateDir,
      '--include-schema',
      'public',
      '--no-owner',
      '--no-acl',
      '-s',
      pgc.url('app', 'reader'),
      '-t',
      pgc.url('app_priv', 'owner'),
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await cli(['throttle', 'priv', '--rows', '5k', '--state-dir', stateDir])).code, 0);
  } finally {
    process.umask(old);
  }
  const entries = readdirSync(join(dir, 'private-state'), { recursive: true }).map(String);
  assert.ok(
    entries.includes(join('.pgferry', 'priv', 'events.jsonl')) &&
      entries.includes(join('.pgferry', 'priv', 'report.md')),
    entries.join(),
  );
  for (const e of ['', ...entries]) {
    const st = statSync(join(dir, 'private-state', e));
    assert.equal(
      st.mode & 0o777,
      st.isDirectory() ? 0o700 : 0o600,
      `${e || 'private-state'}: ${(st.mode & 0o777).toString(8)}`,
    );
  }
});

// End-to-end check of pgferry on the public sample databases in ../shared/corpus (pagila, chinook,
// northwind, world, iso-3166, clubdata). For each corpus and version pair:
//   15→15  pg_dump --schema-only --no-owner --no-acl of both sides identical + rows equal
//   12→17  schema fingerprint (pg_get_*def) identical + rows equal (pg_dump 15 cannot dump 17)
//   17→15  same as 12→17, with allowDowngrade
// Rows are compared per table as unordered sets (count + md5 of sorted row md5s).
//
//   npm run test:corpus [-- [--corpus NAME[,NAME]] [--pair 15-15[,12-17,17-15]] [--keep-diffs]]
//
// The corpus folder is optional: without it the script says so and exits 0, so neither the build
// nor `npm test` depends on it. PGFERRY_CORPUS_DIR overrides its location. pgferry's own verify
// runs in hash mode (PGFERRY_CORPUS_VERIFY=count for count mode) and must agree.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCluster, availableVersions, type Cluster } from '../src/dev/embedded/cluster.js';
import { validateTask } from '../src/core/config.js';
import { EventBus } from '../src/core/events.js';
import { migrate } from '../src/engine/runner.js';
import { schemaFingerprint, tableHashes, withClient } from '../test/helpers/compare.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const corpusDir = resolve(process.env.PGFERRY_CORPUS_DIR ?? join(repo, '..', 'shared', 'corpus'));
const loadSh = join(corpusDir, 'load.sh');

function argList(name: string): string[] | null {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1].split(',').filter(Boolean) : null;
}
const keepDiffs = process.argv.includes('--keep-diffs');

if (!existsSync(loadSh)) {
  console.log(`test:corpus: no sample databases at ${corpusDir} (load.sh not found) — nothing to test, skipping.`);
  process.exit(0);
}

const listed = execFileSync('bash', [loadSh, '--list'], { encoding: 'utf8' })
  .split('\n')
  .map((s) => s.trim())
  .filter(Boolean);
const wanted = argList('--corpus');
const corpora = listed.filter((c) => existsSync(join(corpusDir, c)) && (!wanted || wanted.includes(c)));
type Pair = { from: number; to: number; downgrade: boolean; dump: boolean };
const allPairs: Pair[] = [
  { from: 15, to: 15, downgrade: false, dump: true },
  { from: 12, to: 17, downgrade: false, dump: false },
  { from: 17, to: 15, downgrade: true, dump: false },
];
const wantedPairs = argList('--pair');
const installed = new Set(availableVersions());
const pairs = allPairs.filter((p) => !wantedPairs || wantedPairs.includes(`${p.from}-${p.to}`));
if (corpora.length === 0) {
  console.log(
    `test:corpus: no corpus folders found in ${corpusDir}${wanted ? ` matching ${wanted.join(',')}` : ''} — nothing to test.`,
  );
  process.exit(0);
}

const work = mkdtempSync(join(tmpdir(), 'pgferry-corpus-'));
const stateDir = join(work, 'state');
const logDir = join(work, 'load-logs');
let failures = 0;

// Clusters: one source per major, and a separate PG15 target so 15→15 crosses servers.
const clusters = new Map<string, Cluster>();
async function cluster(key: string, version: number): Promise<Cluster> {
  let c = clusters.get(key);
  if (!c) {
    c = await startCluster({ version, name: 'pgferry-corpus' });
    clusters.set(key, c);
  }
  return c;
}
const sourceKey = (v: number) => `src${v}`;
const targetKey = (v: number) => (v === 17 ? 'src17' : `tgt${v}`); // 17 is only a target for 12→17

/** Load a corpus into a fresh database; returns the number of SQL errors load.sh counted. */
function load(corpus: string, c: Cluster, db: string): { errors: number; secs: number; log: string } {
  const t0 = Date.now();
  const r = spawnSync('bash', [loadSh, corpus, String(c.port), db, c.host], {
    encoding: 'utf8',
    env: { ...process.env, PGHOST: c.host, PGUSER: 'postgres', PGPASSWORD: '', LOG_DIR: logDir, PGTZ: 'UTC' },
  });
  const out = `${r.stdout}${r.stderr}`;
  if (r.status !== 0) throw new Error(`load.sh ${corpus} failed: ${out.trim()}`);
  const m = /: (\d+) errors/.exec(out);
  return { errors: m ? Number(m[1]) : -1, secs: (Date.now() - t0) / 1000, log: join(logDir, `${corpus}-${db}.log`) };
}

/**
 * pg_dump --schema-only, only the random \restrict lines, the version comments and the public schema's
 * stub removed. pg_dump prints that stub ("*not* creating schema, since initdb creates it") only when
 * public's owner is not the default one (pg_database_owner from 15 on): a database loaded by a
 * superuser's script that ran ALTER SCHEMA public OWNER has it, its copy, whose public schema belongs to
 * the target's database owner, does not; --no-owner prints no owner either way.
 */
function dump(url: string): string {
  const text = execFileSync(
    'pg_dump',
    ['--schema-only', '--no-owner', '--no-acl', '--exclude-schema=pgferry', '-d', url],
    {
      encoding: 'utf8',
      maxBuffer: 256 << 20,
    },
  );
  return text
    .replace(
      /--\n-- Name: public; Type: SCHEMA; Schema: -; Owner: -\n--\n\n-- \*not\* creating schema, since initdb creates it\n\n\n/,
      '',
    )
    .split('\n')
    .filter((l) => !/^\\(un)?restrict /.test(l) && !/^-- Dumped (from database version|by pg_dump version)/.test(l))
    .join('\n');
}

/**
 * What the pg_get_*def fingerprint of test/helpers/compare.ts does not look at, read the same way
 * on 12, 15 and 17: relation kind/persistence/options, partition bounds and keys, inheritance,
 * sequence parameters, current values and owners, domains and their constraints, composite type
 * attributes, aggregates, rules, policies, statistics objects, extensions, column collations,
 * trigger enable state, clustered indexes, every comment and the ACLs. A schema's ACL names its
 * owner OWNER: the public schema is owned by the bootstrap superuser before 15 and by
 * pg_database_owner from 15 on, and that owner's own rights are the same either way.
 */
async function deepFingerprint(url: string): Promise<string[]> {
  return withClient(url, async (c) => {
    const r = await c.query<{ line: string }>(`
      WITH ns AS (SELECT oid, nspname FROM pg_namespace WHERE nspname NOT IN ('pg_catalog','information_schema','pgferry') AND nspname NOT LIKE 'pg_toast%' AND nspname NOT LIKE 'pg_temp%'),
      rel AS (SELECT c.*, ns.nspname, format('%I.%I', ns.nspname, c.relname) AS qn FROM pg_class c JOIN ns ON ns.oid = c.relnamespace)
      SELECT 'schema ' || nspname || coalesce(' acl ' || (
               SELECT string_agg(item, ',' ORDER BY item) FROM (
                 SELECT CASE WHEN a.grantee = n.nspowner THEN 'OWNER' WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END
                        || '=' || a.privilege_type || CASE WHEN a.is_grantable THEN '*' ELSE '' END
                        || '/' || CASE WHEN a.grantor = n.nspowner THEN 'OWNER' ELSE a.grantor::regrole::text END AS item
                 FROM pg_namespace n, aclexplode(n.nspacl) a WHERE n.oid = ns.oid) items), '') AS line FROM ns
      UNION ALL
      SELECT 'relation ' || qn || ' kind ' || relkind::text || ' persistence ' || relpersistence::text || ' replident ' || relreplident::text
             || ' rls ' || relrowsecurity || '/' || relforcerowsecurity || coalesce(' options ' || reloptions::text, '')
             || coalesce(' partkey ' || pg_get_partkeydef(oid), '') || coalesce(' bound ' || pg_get_expr(relpartbound, oid), '')
             || CASE WHEN relkind = 'm' THEN ' populated ' || relispopulated ELSE '' END || coalesce(' acl ' || relacl::text, '')
      FROM rel WHERE relkind IN ('r','p','v','m','f','S','c')
      UNION ALL
      SELECT 'inherits ' || ch.qn || ' ' || pa.qn || ' ' || i.inhseqno FROM pg_inherits i JOIN rel ch ON ch.oid = i.inhrelid JOIN rel pa ON pa.oid = i.inhparent WHERE ch.relkind IN ('r','p','f')
      UNION ALL
      SELECT 'sequence ' || r.qn || ' ' || format_type(s.seqtypid, NULL) || ' start ' || s.seqstart || ' inc ' || s.seqincrement || ' min ' || s.seqmin || ' max ' || s.seqmax
             || ' cache ' || s.seqcache || ' cycle ' || s.seqcycle || ' last ' || coalesce(ps.last_value::text, 'null')
             || coalesce(' owned by ' || (SELECT o.qn || '.' || quote_ident(a.attname) FROM pg_depend d JOIN rel o ON o.oid = d.refobjid JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                                         WHERE d.classid = 'pg_class'::regclass AND d.objid = r.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a','i') LIMIT 1), '')
      FROM pg_sequence s JOIN rel r ON r.oid = s.seqrelid LEFT JOIN pg_sequences ps ON ps.schemaname = r.nspname AND ps.sequencename = r.relname
      UNION ALL
      SELECT 'column ' || r.qn || '.' || quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod) || ' collation ' || coalesce(co.collname, '-')
             || ' storage ' || a.attstorage::text || coalesce(' acl ' || a.attacl::text, '') || coalesce(' options ' || a.attoptions::text, '')
      FROM rel r JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> (SELECT typcollation FROM pg_type WHERE oid = a.atttypid)
      WHERE r.relkind IN ('r','p','v','m','f','c')
      UNION ALL
      SELECT 'domain ' || ns.nspname || '.' || t.typname || ' ' || format_type(t.typbasetype, t.typtypmod) || ' notnull ' || t.typnotnull || coalesce(' default ' || t.typdefault, '')
             || coalesce(' collation ' || (SELECT collname FROM pg_collation WHERE oid = t.typcollation AND t.typcollation <> (SELECT typcollation FROM pg_type WHERE oid = t.typbasetype)), '')
             || coalesce(' acl ' || t.typacl::text, '')
      FROM pg_type t JOIN ns ON ns.oid = t.typnamespace WHERE t.typtype = 'd'
      UNION ALL
      SELECT 'domain constraint ' || ns.nspname || '.' || t.typname || ' ' || co.conname || ' ' || pg_get_constraintdef(co.oid)
      FROM pg_constraint co JOIN pg_type t ON t.oid = co.contypid JOIN ns ON ns.oid = t.typnamespace
      UNION ALL
      SELECT 'aggregate ' || p.oid::regprocedure::text || ' sfunc ' || a.aggtransfn::regproc::text || ' stype ' || format_type(a.aggtranstype, NULL)
             || ' final ' || a.aggfinalfn::regproc::text || coalesce(' init ' || a.agginitval, '') || ' sort ' || a.aggsortop::regoper::text
      FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid JOIN ns ON ns.oid = p.pronamespace
      UNION ALL
      SELECT 'routine acl ' || p.oid::regprocedure::text || ' ' || coalesce(p.proacl::text, '-') FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
      UNION ALL
      SELECT 'rule ' || pg_get_ruledef(ru.oid) FROM pg_rewrite ru JOIN rel r ON r.oid = ru.ev_class WHERE ru.rulename <> '_RETURN'
      UNION ALL
      SELECT 'policy ' || r.qn || ' ' || po.polname || ' ' || po.polcmd::text || ' ' || po.polpermissive || ' ' || coalesce(pg_get_expr(po.polqual, po.polrelid), '') || ' ' || coalesce(pg_get_expr(po.polwithcheck, po.polrelid), '')
      FROM pg_policy po JOIN rel r ON r.oid = po.polrelid
      UNION ALL
      SELECT 'statistics ' || pg_get_statisticsobjdef(s.oid) FROM pg_statistic_ext s JOIN ns ON ns.oid = s.stxnamespace
      UNION ALL
      SELECT 'extension ' || e.extname || ' in ' || n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
      UNION ALL
      SELECT 'trigger state ' || r.qn || ' ' || tg.tgname || ' ' || tg.tgenabled::text FROM pg_trigger tg JOIN rel r ON r.oid = tg.tgrelid WHERE NOT tg.tgisinternal
      UNION ALL
      SELECT 'index flags ' || ix.qn || ' clustered ' || i.indisclustered || ' replident ' || i.indisreplident || ' valid ' || i.indisvalid
      FROM pg_index i JOIN rel ix ON ix.oid = i.indexrelid
      UNION ALL
      SELECT 'comment ' || pg_describe_object(d.classoid, d.objoid, d.objsubid) || ': ' || d.description
      FROM pg_description d WHERE d.objoid >= 16384 AND pg_describe_object(d.classoid, d.objoid, d.objsubid) NOT LIKE '%pgferry.%'
        AND d.classoid <> 'pg_namespace'::regclass OR (d.classoid = 'pg_namespace'::regclass AND d.objoid IN (SELECT oid FROM ns))
      ORDER BY 1`);
    return r.rows.map((x) => x.line);
  });
}

function textDiff(a: string, b: string, label: string): string {
  const fa = join(work, `${label}.source.sql`);
  const fb = join(work, `${label}.target.sql`);
  writeFileSync(fa, a);
  writeFileSync(fb, b);
  const r = spawnSync('diff', ['-u', fa, fb], { encoding: 'utf8' });
  return r.stdout;
}

function setDiff(a: string[], b: string[]): string[] {
  const count = (xs: string[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>());
  const ca = count(a);
  const cb = count(b);
  const out: string[] = [];
  for (const [x, n] of ca) for (let i = cb.get(x) ?? 0; i < n; i++) out.push(`- ${x}`);
  for (const [x, n] of cb) for (let i = ca.get(x) ?? 0; i < n; i++) out.push(`+ ${x}`);
  return out.sort((p, q) => p.slice(2).localeCompare(q.slice(2)));
}

function indent(s: string, max = 60): string {
  const lines = s.split('\n').filter((l) => l.length > 0);
  const shown = lines.slice(0, max).map((l) => `      ${l}`);
  if (lines.length > max) shown.push(`      … ${lines.length - max} more lines`);
  return shown.join('\n');
}

async function runPair(corpus: string, p: Pair): Promise<void> {
  const label = `${corpus} ${p.from}→${p.to}`;
  const db = `${corpus.replace(/[^a-z0-9]+/gi, '_')}`;
  const tdb = `${db}_from${p.from}`;
  const src = await cluster(sourceKey(p.from), p.from);
  const tgt = await cluster(targetKey(p.to), p.to);
  // The source database is loaded once per source major and reused by every pair reading it.
  const exists = await withClient(src.url(), (c) => c.query('SELECT 1 FROM pg_database WHERE datname = $1', [db]));
  if (exists.rowCount === 0) {
    const l = load(corpus, src, db);
    if (l.errors !== 0) {
      console.log(
        `${label}: skipped — ${corpus} does not load clean on PostgreSQL ${p.from} (${l.errors} errors, see ${l.log})`,
      );
      await withClient(src.url(), (c) => c.query(`DROP DATABASE "${db}"`));
      return;
    }
  }
  await withClient(tgt.url(), (c) =>
    c
      .query(`DROP DATABASE IF EXISTS "${tdb}"`)
      .then(() => c.query(`CREATE DATABASE "${tdb}" TEMPLATE template0 ENCODING 'UTF8'`)),
  );

  const events = new EventBus();
  const warnings: string[] = [];
  events.on((e) => {
    if (e.type === 'log' && e.level === 'warn') warnings.push(e.message);
    if (e.type === 'table-start' && e.units > 1) splitTables++;
  });
  let splitTables = 0;
  const task = validateTask({
    name: `corpus-${db}-${p.from}-${p.to}`,
    source: src.url(db),
    target: tgt.url(tdb),
    jobs: 4,
    stateDir,
    verify: process.env.PGFERRY_CORPUS_VERIFY === 'count' ? 'count' : 'hash',
    allowDowngrade: p.downgrade,
    // PGFERRY_CORPUS_SPLIT_MB=0.1 splits even these small tables into several copy units.
    ...(process.env.PGFERRY_CORPUS_SPLIT_MB
      ? {
          copy: {
            splitThresholdMB: Number(process.env.PGFERRY_CORPUS_SPLIT_MB),
            unitMB: Number(process.env.PGFERRY_CORPUS_SPLIT_MB) / 2,
          },
        }
      : {}),
  });
  const t0 = Date.now();
  let result: Awaited<ReturnType<typeof migrate>>;
  try {
    result = await migrate(task, { events });
  } catch (e) {
    failures++;
    const err = e as Error & { hint?: string };
    console.log(
      `${label}: MIGRATE FAILED after ${((Date.now() - t0) / 1000).toFixed(1)} s: ${err.message}${err.hint ? `\n      hint: ${err.hint}` : ''}`,
    );
    if (warnings.length) console.log(indent(warnings.map((w) => `warning: ${w}`).join('\n'), 20));
    return;
  }
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  if (process.env.PGFERRY_CORPUS_MUTATE) {
    // Self-test of this script: spoil the target a little; every pair must then report differences.
    await withClient(tgt.url(tdb), async (c) => {
      const t = await c.query<{ q: string }>(
        `SELECT format('%I.%I', schemaname, relname) AS q FROM pg_stat_user_tables WHERE schemaname <> 'pgferry' ORDER BY n_live_tup DESC, 1 LIMIT 1`,
      );
      await c.query('SET session_replication_role = replica');
      await c.query(`DELETE FROM ${t.rows[0].q} WHERE ctid = (SELECT min(ctid) FROM ${t.rows[0].q})`);
      await c.query(`COMMENT ON TABLE ${t.rows[0].q} IS 'mutated'`);
      const s = await c.query<{ q: string }>(
        `SELECT format('%I.%I', schemaname, sequencename) AS q FROM pg_sequences WHERE schemaname <> 'pgferry' LIMIT 1`,
      );
      if (s.rows[0]) await c.query(`SELECT nextval('${s.rows[0].q}')`);
    });
  }

  const problems: string[] = [];
  let schemaText = '';
  if (p.dump) {
    const a = dump(src.url(db));
    const b = dump(tgt.url(tdb));
    if (a === b) schemaText = 'schema identical';
    else {
      schemaText = 'SCHEMA DIFFERS';
      problems.push(
        `pg_dump --schema-only differs (- source, + target):\n${indent(textDiff(a, b, `${db}-${p.from}-${p.to}`))}`,
      );
    }
  } else {
    const a = await schemaFingerprint(src.url(db));
    const b = await schemaFingerprint(tgt.url(tdb));
    const d = setDiff(a, b);
    if (d.length === 0) schemaText = `schema fingerprint identical (${a.length} items)`;
    else {
      schemaText = 'SCHEMA DIFFERS';
      problems.push(`schema fingerprint differs (- source only, + target only):\n${indent(d.join('\n'))}`);
    }
  }
  {
    const deep = await deepFingerprint(src.url(db));
    const d = setDiff(deep, await deepFingerprint(tgt.url(tdb)));
    schemaText += ` + ${deep.length} catalog details`;
    if (d.length) {
      schemaText += ', CATALOG DIFFERS';
      problems.push(`catalog details differ (- source only, + target only):\n${indent(d.join('\n'))}`);
    }
  }
  if (!p.dump && p.to === 15) {
    // The target is dumpable: it must dump exactly like the same corpus loaded directly on 15.
    const ref = clusters.get(sourceKey(15));
    const has =
      ref &&
      (await withClient(ref.url(), (c) => c.query('SELECT 1 FROM pg_database WHERE datname = $1', [db]))).rowCount;
    if (ref && has) {
      const a = dump(ref.url(db));
      const b = dump(tgt.url(tdb));
      if (a === b) schemaText += ', pg_dump identical to the corpus loaded on 15';
      else {
        schemaText += ', PG_DUMP DIFFERS from the corpus loaded on 15';
        problems.push(
          `pg_dump --schema-only differs from the corpus loaded directly on 15 (- direct, + migrated):\n${indent(textDiff(a, b, `${db}-${p.from}-${p.to}-vs15`))}`,
        );
      }
    }
  }
  const ha = await tableHashes(src.url(db));
  const hb = await tableHashes(tgt.url(tdb));
  const names = [...new Set([...Object.keys(ha), ...Object.keys(hb)])].sort();
  const bad = names.filter((n) => ha[n] !== hb[n]);
  const rows = Object.values(ha).reduce((n, h) => n + Number(h.split(':')[0]), 0);
  const rowsText =
    bad.length === 0 ? `${names.length} tables equal (${rows} rows)` : `${bad.length} of ${names.length} TABLES DIFFER`;
  if (bad.length) {
    problems.push(
      `tables differ (source count:hash → target count:hash):\n${indent(bad.map((n) => `${n}: ${ha[n] ?? 'missing'} → ${hb[n] ?? 'missing'}`).join('\n'))}`,
    );
  }
  if (result.verify && !result.verify.ok) problems.push('pgferry verify reported differences');
  const extra =
    (result.notMigrated.length ? `, ${result.notMigrated.length} objects not migrated` : '') +
    (splitTables ? `, ${splitTables} tables copied in several units` : '');
  console.log(
    `${label}: ${schemaText}, ${rowsText}, ${secs} s${extra}${warnings.length ? `, ${warnings.length} warnings` : ''}`,
  );
  if (problems.length || process.env.PGFERRY_CORPUS_VERBOSE) {
    for (const w of warnings) console.log(`      warning: ${w}`);
    for (const n of result.notMigrated) console.log(`      not migrated: ${n.kind} ${n.name}: ${n.reason}`);
  }
  for (const pr of problems) console.log(`    ${pr}`);
  if (problems.length) failures++;
}

const started = Date.now();
try {
  console.log(`test:corpus: ${corpora.join(', ')} from ${corpusDir}`);
  for (const p of pairs) {
    const missing = [p.from, p.to].filter((v) => !installed.has(v));
    if (missing.length) {
      console.log(`${p.from}→${p.to}: skipped — no PostgreSQL ${missing.join(', ')} binaries`);
      continue;
    }
    for (const corpus of corpora) await runPair(corpus, p);
  }
} catch (e) {
  failures++;
  console.log(`test:corpus: aborted: ${(e as Error).stack ?? e}`);
} finally {
  await Promise.all([...clusters.values()].map((c) => c.stop()));
  if (failures === 0 || !keepDiffs) rmSync(work, { recursive: true, force: true });
  else console.log(`dumps and load logs kept in ${work}`);
}
console.log(
  `test:corpus: ${failures === 0 ? 'all equal' : `${failures} failing corpus/pair(s)`} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
);
process.exit(failures === 0 ? 0 : 1);

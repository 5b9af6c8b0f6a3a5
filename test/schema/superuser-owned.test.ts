/**
 * Objects only a superuser may own — a foreign-data wrapper made by CREATE FOREIGN DATA WRAPPER, an
 * event trigger — under `--owner-to` a role that is no superuser (they stay with the account that
 * creates them, with a warning naming each) and under `--no-owner`, through a real `migrate` between
 * PostgreSQL 15 databases. Publications FOR ALL TABLES / TABLES IN SCHEMA (held to a superuser owner
 * only when a non-superuser changes it) take --owner-to; a procedural language is not migrated.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { cli } from '../cli/run.js';
import { Selection } from '../../src/core/selection.js';
import { validateTask } from '../../src/core/config.js';
import { runPrecheck } from '../../src/stages/precheck/index.js';
import { readSourceSchema } from '../../src/stages/schema/apply.js';
import { client, createDb, runSql, task } from './helpers.js';

let pgc: Cluster;
let dir: string;
let srcUrl: string;

// made by another superuser than the target account, so that keeping an owner shows
const SOURCE = `
SET ROLE src_admin;
CREATE FOREIGN DATA WRAPPER su_fdw;
CREATE SERVER su_srv FOREIGN DATA WRAPPER su_fdw;
CREATE SCHEMA app;
CREATE TABLE app.t (id int PRIMARY KEY);
INSERT INTO app.t SELECT generate_series(1, 10);
CREATE FUNCTION app.evt() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$;
CREATE EVENT TRIGGER su_evt ON ddl_command_end EXECUTE FUNCTION app.evt();
CREATE PUBLICATION su_all FOR ALL TABLES;
CREATE PUBLICATION su_schema FOR TABLES IN SCHEMA app;
CREATE PUBLICATION su_table FOR TABLE app.t;
CREATE LANGUAGE su_lang HANDLER plpgsql_call_handler;`;

before(async () => {
  pgc = await startCluster({ version: 15, name: 'pgferry-su-owned', settings: { wal_level: 'logical' } });
  dir = mkdtempSync(join(tmpdir(), 'pgferry-su-owned-'));
  await runSql(
    pgc.url(),
    'CREATE ROLE app_owner NOLOGIN NOSUPERUSER; CREATE ROLE src_admin NOLOGIN SUPERUSER; CREATE ROLE su_plain LOGIN',
  );
  srcUrl = await createDb(pgc, 'su_src');
  await runSql(srcUrl, SOURCE);
});

after(async () => {
  await pgc?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Owners of the objects on a target database, by "kind name". */
async function owners(url: string): Promise<Record<string, string>> {
  const c = await client(url);
  try {
    const r = await c.query<{ k: string; o: string }>(`
      SELECT 'fdw ' || fdwname AS k, fdwowner::regrole::text AS o FROM pg_foreign_data_wrapper
      UNION ALL SELECT 'server ' || srvname, srvowner::regrole::text FROM pg_foreign_server
      UNION ALL SELECT 'event trigger ' || evtname, evtowner::regrole::text FROM pg_event_trigger
      UNION ALL SELECT 'publication ' || pubname, pubowner::regrole::text FROM pg_publication
      UNION ALL SELECT 'table ' || relname, relowner::regrole::text FROM pg_class WHERE oid = 'app.t'::regclass`);
    return Object.fromEntries(r.rows.map((x) => [x.k, x.o]));
  } finally {
    await c.end();
  }
}

async function migrate(name: string, tgtUrl: string, ...flags: string[]) {
  const stateDir = join(dir, name);
  const r = await cli([
    'migrate',
    '--json',
    '--name',
    name,
    '--state-dir',
    stateDir,
    ...flags,
    '-s',
    srcUrl,
    '-t',
    tgtUrl,
  ]);
  assert.equal(r.code, 0, `${r.stderr}\n${r.stdout.slice(-4000)}`);
  const report = JSON.parse(readFileSync(join(stateDir, name, 'report.json'), 'utf8')) as { warnings: string[] };
  return report.warnings;
}

test('--owner-to a role that is no superuser: objects only a superuser may own stay with the creator, with a warning', async () => {
  const tgt = await createDb(pgc, 'su_tgt_owner');
  await runSql(pgc.url(), 'ALTER DATABASE su_tgt_owner OWNER TO app_owner');
  const warnings = await migrate('owner-to', tgt, '--owner-to', 'app_owner');
  assert.deepEqual(await owners(tgt), {
    'fdw su_fdw': 'postgres',
    'server su_srv': 'app_owner',
    'event trigger su_evt': 'postgres',
    'publication su_all': 'app_owner',
    'publication su_schema': 'app_owner',
    'publication su_table': 'app_owner',
    'table t': 'app_owner',
  });
  for (const what of ['foreign-data wrapper su_fdw', 'event trigger su_evt'])
    assert.ok(
      warnings.some((w) => w.startsWith(`${what}: kept owned by the target account`) && w.includes('app_owner')),
      `${what}\n${warnings.join('\n')}`,
    );
  assert.ok(!warnings.some((w) => /su_srv|su_all|su_schema|su_table/.test(w)), warnings.join('\n'));
});

test('each object only a superuser may own is created under --owner-to on its own (statement by statement)', async () => {
  const src = await client(srcUrl);
  const g = await readSourceSchema(src, new Selection(task({ ownerTo: 'app_owner' }))).finally(() => src.end());
  const tgt = await createDb(pgc, 'su_tgt_each');
  const c = await client(tgt);
  const failed: string[] = [];
  try {
    for (const section of ['pre', 'early', 'late'])
      for (const st of g.statements.filter((x) => x.section === section))
        await c.query(st.sql).catch((e: Error) => failed.push(`${st.key}: ${e.message}`));
  } finally {
    await c.end();
  }
  assert.deepEqual(failed, []);
  assert.ok(g.notMigrated.some((n) => n.kind === 'language' && n.name.includes('su_lang')));
  assert.ok(!g.statements.some((x) => /su_lang/.test(x.sql)));
  assert.deepEqual(
    g.warnings.filter((w) => w.includes(': kept owned')).map((w) => w.split(':')[0]),
    ['foreign-data wrapper su_fdw', 'event trigger su_evt'],
  );
  const o = await owners(tgt);
  assert.deepEqual(
    [o['fdw su_fdw'], o['event trigger su_evt'], o['server su_srv']],
    ['postgres', 'postgres', 'app_owner'],
  );
});

test('--no-owner: every object belongs to the target account, and no ownership warning', async () => {
  const tgt = await createDb(pgc, 'su_tgt_noowner');
  const warnings = await migrate('no-owner', tgt, '--no-owner');
  const o = await owners(tgt);
  assert.deepEqual(new Set(Object.values(o)), new Set(['postgres']), JSON.stringify(o));
  assert.equal(Object.keys(o).length, 7, JSON.stringify(o));
  assert.ok(!warnings.some((w) => /kept owned/.test(w)), warnings.join('\n'));
});

test('precheck objects.superuser names the wrapper and the event trigger when the target account is no superuser', async () => {
  await createDb(pgc, 'su_tgt_plain');
  await runSql(pgc.url(), 'ALTER DATABASE su_tgt_plain OWNER TO su_plain');
  const base = {
    stateDir: join(dir, 'pre'),
    source: srcUrl,
    target: pgc.url('su_tgt_plain', 'su_plain'),
    noOwner: true,
  };
  const item = async (over: Record<string, unknown>) =>
    (await runPrecheck(validateTask({ ...base, ...over }))).items.find((i) => i.id === 'objects.superuser')!;
  const all = await item({});
  assert.equal(all.result, 'failed');
  assert.deepEqual(all.objects, ['event trigger su_evt', 'foreign-data wrapper su_fdw']);
  assert.match(all.hint!, /superuser.*--include-schema/);
  // with a schema filter the global objects stay behind
  assert.equal((await item({ includeSchemas: ['app'] })).result, 'passed');
});

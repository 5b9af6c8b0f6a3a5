// A DBA's settings that change how values are written as text: the source database shows dates day
// first (DateStyle 'SQL, DMY') and intervals as SQL standard, the target database reads dates month
// first. Rows travel as text in a text-format copy and in change capture (pgoutput sends text): every
// date, timestamp and interval must land as the same value, not another one read the other way round,
// and so must the dates in the schema (a column default, a CHECK constraint).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBus } from '../../src/core/events.js';
import { migrate } from '../../src/engine/runner.js';
import { withClient } from '../helpers/compare.js';
import { cdcFixture, stopAt } from '../cdc/helpers.js';

const fx = cdcFixture({ prefix: 'audit-datestyle' });

const SCHEMA = `
  CREATE TABLE d (id int PRIMARY KEY, day date, at timestamp, span interval);
  INSERT INTO d VALUES (1, '2024-02-01', '2024-02-01 10:11:12.5', '-1 year +2 days -03:04:05'),
                       (2, '2024-12-25', '2024-03-04 00:00:00', '1 mon -1 day'), (3, NULL, NULL, NULL);
  CREATE TABLE cfg (id int PRIMARY KEY, since date DEFAULT '2024-02-01', CHECK (since >= '2000-03-01'));`;

/** Column defaults and CHECK constraints of table cfg, as one fixed style shows them. */
async function definitions(url: string): Promise<string[]> {
  return withClient(url, async (c) => {
    await c.query(`SET DateStyle = 'ISO, YMD'`);
    const r = await c.query<{ d: string }>(
      `SELECT pg_get_expr(adbin, adrelid) AS d FROM pg_attrdef WHERE adrelid = 'cfg'::regclass
       UNION ALL SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'cfg'::regclass ORDER BY 1`,
    );
    return r.rows.map((x) => x.d);
  });
}

/** The rows as one fixed style shows them (the same values print the same). */
async function rows(url: string): Promise<string[]> {
  return withClient(url, async (c) => {
    await c.query(`SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'`);
    const r = await c.query<{ r: string }>(
      `SELECT id || ' ' || coalesce(day::text, '-') || ' ' || coalesce(at::text, '-') || ' ' || coalesce(span::text, '-') AS r
         FROM d ORDER BY id`,
    );
    return r.rows.map((x) => x.r);
  });
}

for (const format of ['text', 'binary'] as const) {
  test(`${format} copy, then change capture: dates, timestamps, intervals and schema constants keep their values between databases that write and read them in other styles`, async () => {
    const { source, target } = await fx.databases(`styles_${format}`, SCHEMA);
    await withClient(fx.pg.url(), async (c) => {
      await c.query(`ALTER DATABASE styles_${format}_src SET DateStyle = 'SQL, DMY'`);
      await c.query(`ALTER DATABASE styles_${format}_src SET IntervalStyle = 'sql_standard'`);
      await c.query(`ALTER DATABASE styles_${format}_tgt SET DateStyle = 'SQL, MDY'`);
    });
    const task = fx.task(`styles_${format}`, source, target, { verify: 'hash', copy: { format } });
    const events = new EventBus();
    let during: Promise<unknown> | undefined;
    events.on((e) => {
      if (e.type === 'phase-start' && e.phase === 'cdc' && !during) {
        during = (async () => {
          await withClient(source, (c) =>
            c.query(`INSERT INTO d VALUES (4, '2023-01-12', '2023-01-12 23:59:59', '-2 years +1 mon -5 days +06:00:00');
                   UPDATE d SET day = '2025-03-07', span = '-1 day +01:00:00' WHERE id = 2;
                   UPDATE d SET at = at + interval '1 day' WHERE id = 1`),
          );
          await stopAt(source, target, `styles_${format}`);
        })();
      }
    });
    const result = await migrate(task, { events });
    await during;
    assert.deepEqual(await rows(target), await rows(source));
    assert.deepEqual(await rows(source), [
      '1 2024-02-01 2024-02-02 10:11:12.5 -1 years +2 days -03:04:05',
      '2 2025-03-07 2024-03-04 00:00:00 -1 days +01:00:00',
      '3 - - -',
      '4 2023-01-12 2023-01-12 23:59:59 -1 years -11 mons -5 days +06:00:00',
    ]);
    assert.ok(result.verify?.ok, JSON.stringify(result.verify));
    // constants in the schema (a default, a CHECK) are read and written in the same style too
    assert.deepEqual(await definitions(target), [
      "'2024-02-01'::date",
      "CHECK ((since >= '2000-03-01'::date))",
      'PRIMARY KEY (id)',
    ]);
    assert.deepEqual(await definitions(source), await definitions(target));
  });
}

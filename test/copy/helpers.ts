import pg from 'pg';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { CopyTable } from '../../src/stages/data/plan/types.js';
import { tableKey } from '../../src/core/selection.js';
import type { Statement } from '../../src/core/statement.js';

export async function sql(url: string, text: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: url, application_name: 'test' });
  await c.connect();
  try {
    return await c.query(text, params);
  } finally {
    await c.end();
  }
}

/** Count and order-independent hash of the listed columns of a table. */
export async function tableDigest(url: string, table: string, cols = '*'): Promise<{ n: string; h: string }> {
  const r = await sql(
    url,
    `SELECT count(*)::text AS n, coalesce(md5(string_agg(x, '' ORDER BY x)), '') AS h FROM (SELECT md5(${cols === '*' ? 't' : `ROW(${cols})`}::text) AS x FROM ${table} t) s`,
  );
  return r.rows[0];
}

export function copyTable(
  schema: string,
  name: string,
  cols: { name: string; type: string; target?: string }[],
  hasPrimaryKey: boolean,
  extra: Partial<CopyTable> = {},
): CopyTable {
  return {
    key: tableKey(schema, name),
    source: { schema, name },
    target: { schema, name },
    columns: cols.map((c) => ({ source: c.name, target: c.target ?? c.name, type: c.type })),
    hasPrimaryKey,
    ...extra,
  };
}

export function early(table: CopyTable, key: string, sqlText: string, kind = 'index'): Statement {
  return { key, kind, name: key, section: 'early', sql: sqlText, table: table.key };
}

export const copyDefaults = {
  splitThresholdMB: 256,
  unitMB: 128,
  format: 'auto' as const,
  maxRowsPerSec: null,
  maxBytesPerSec: null,
  retryTimeSec: 60,
};

const here = dirname(fileURLToPath(import.meta.url));

/** Run copyData in a child process (runner.ts) that a test can SIGKILL; resolves with its events. */
/** An event line of the child (a TimedEvent), or its final {"type":"result",…} line. */
type ChildEvent = { type: string; [field: string]: unknown };
export function runChild(
  args: object,
  onEvent: (e: ChildEvent, kill: () => void) => void,
): Promise<{ code: number | null; signal: string | null; events: ChildEvent[] }> {
  return new Promise((resolve, reject) => {
    const argv = ['--import', 'tsx', join(here, 'runner.ts'), JSON.stringify(args)];
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    const events: ChildEvent[] = [];
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    createInterface({ input: child.stdout }).on('line', (l) => {
      try {
        const e = JSON.parse(l);
        events.push(e);
        onEvent(e, () => child.kill('SIGKILL'));
      } catch {
        /* not an event */
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code !== 0 && signal === null) reject(new Error(`runner failed (${code}): ${stderr}`));
      else resolve({ code, signal, events });
    });
  });
}

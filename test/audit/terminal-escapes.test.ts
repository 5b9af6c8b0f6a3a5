// Whoever may create a table on the source names it: PostgreSQL takes any character but NUL in a
// quoted name, control characters too. pgferry prints table names (and servers' messages) on the
// operator's terminal, which takes ESC sequences as commands (set the window title, clear the screen,
// rewrite lines). A migration of such a table (least-privilege accounts) copies it exactly, and what
// pgferry prints holds no control character of the name; the live progress (TTY) neither.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attachProgress } from '../../src/cli/progress.js';
import { EventBus } from '../../src/core/events.js';
import { quoteIdent } from '../../src/core/ident.js';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';
import { passwordHba, sourceAccount, targetAccount } from '../embed/accounts.js';
import { tableHashes, withClient } from '../helpers/compare.js';

// an OSC (window title), a bell, a screen clear, a carriage return and a right-to-left override
const EVIL = 'evil\u001b]2;pwned\u0007\u001b[2J\rover\u202ewritten';
let cluster: Cluster;
const dir = mkdtempSync(join(tmpdir(), 'pgferry-audit-esc-'));

before(async () => {
  cluster = await startCluster({ version: 15, hba: passwordHba(['esc_src', 'esc_tgt']) });
  await withClient(cluster.url(), (c) => c.query('CREATE DATABASE shop'));
  await withClient(cluster.url('shop'), (c) =>
    c.query(`CREATE SCHEMA app;
      CREATE TABLE app.${quoteIdent(EVIL)} (id int PRIMARY KEY, ${quoteIdent(`col${EVIL}`)} text);
      INSERT INTO app.${quoteIdent(EVIL)} SELECT g, 'v' || g FROM generate_series(1, 100) g;`),
  );
});

after(async () => {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** `pgferry migrate` to its end, as a command line prints it (no TTY): exit code and everything printed. */
function migrate(args: string[]): Promise<{ code: number | null; printed: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/cli.ts', 'migrate', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let printed = '';
    child.stdout!.on('data', (d) => (printed += d));
    child.stderr!.on('data', (d) => (printed += d));
    child.on('close', (code) => resolve({ code, printed }));
  });
}

const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

test('a table named with terminal control sequences is copied exactly, and none of them reaches the terminal', async () => {
  const source = await sourceAccount(cluster, 'shop', 'esc_src', 'Esc-src-pw-1', ['app']);
  const target = await targetAccount(cluster, 'shop_copy', 'esc_tgt', 'Esc-tgt-pw-2');
  const r = await migrate(['-s', source, '-t', target, '--name', 'esc', '--state-dir', dir, '--no-owner', '--no-acl']);
  assert.equal(r.code, 0, r.printed);
  assert.deepEqual(await tableHashes(target), await tableHashes(source));
  const names = await withClient(target, (c) =>
    c.query(`SELECT relname FROM pg_class WHERE relnamespace = 'app'::regnamespace AND relkind = 'r'`),
  );
  assert.deepEqual(names.rows, [{ relname: EVIL }]);
  // the name is shown (its control characters as U+FFFD), and no control character is printed
  assert.match(r.printed, /evil\ufffd\]2;pwned\ufffd\ufffd\[2J\ufffdover\ufffdwritten/);
  const bad = CONTROL.exec(r.printed);
  assert.equal(bad, null, `printed U+${bad?.[0].charCodeAt(0).toString(16)} at ${bad?.index}`);
});

test('the live progress on a TTY prints its own cursor moves only', async () => {
  let printed = '';
  const bus = new EventBus();
  const stop = attachProgress(bus, 'tty', {
    isTTY: true,
    columns: 120,
    rows: 24,
    write: (t: string) => (printed += t),
  });
  const table = `app.${quoteIdent(EVIL)}`;
  bus.emit({
    type: 'progress',
    rows: 10,
    bytes: 1000,
    estRows: 100,
    estBytes: 10_000,
    rowsPerSec: 10,
    bytesPerSec: 1000,
    etaSec: 9,
    active: [{ table, rows: 10, estRows: 100, bytes: 1000, estBytes: 10_000 }],
  });
  await new Promise((r) => setTimeout(r, 150));
  bus.emit({ type: 'table-done', table, rows: 100, bytes: 10_000, durationMs: 5, skippedUnits: 0 });
  bus.emit({ type: 'log', level: 'warn', message: `a message naming ${table}` });
  await new Promise((r) => setTimeout(r, 150));
  stop();
  assert.match(printed, /evil\ufffd\]2;pwned/);
  // what is left once pgferry's own "cursor up N lines, clear below" are taken out
  const rest = printed.replace(/\u001b\[\d+A\u001b\[0J/g, '');
  const bad = CONTROL.exec(rest.replaceAll('\n', ''));
  assert.equal(bad, null, `printed U+${bad?.[0].charCodeAt(0).toString(16)}`);
});

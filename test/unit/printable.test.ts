// Names and messages from the databases reach a person's terminal (CLI output, the service's text log)
// with their control characters as U+FFFD: a table named with an escape sequence sends no command.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { printable } from '../../src/core/printable.js';
import { formatEntry } from '../../src/server/logger.js';

const EVIL = 'evil\u001b]2;pwned\u0007\u001b[2J\rover\u202ewritten\u009b1m';

test('control characters and bidirectional overrides become U+FFFD; tab, newline and other text stay', () => {
  assert.equal(printable(EVIL), 'evil\ufffd]2;pwned\ufffd\ufffd[2J\ufffdover\ufffdwritten\ufffd1m');
  assert.equal(printable('a\tb\nc "ü" — ✔ 表'), 'a\tb\nc "ü" — ✔ 表');
});

test("the service's text log holds no control character of a message or a field; its JSON log escapes them", () => {
  const at = new Date('2026-01-02T03:04:05.000Z');
  const line = formatEntry('text', 'error', `task failed: table app."${EVIL}"`, { table: EVIL }, at);
  assert.equal(
    line,
    '2026-01-02T03:04:05.000Z ERROR task failed: table app."evil\ufffd]2;pwned\ufffd\ufffd[2J\ufffdover\ufffdwritten\ufffd1m" ' +
      'table="evil\\u001b]2;pwned\\u0007\\u001b[2J\\rover\ufffdwritten\ufffd1m"',
  );
  const json = formatEntry('json', 'error', EVIL, {}, at);
  assert.equal(JSON.parse(json).msg, EVIL);
});

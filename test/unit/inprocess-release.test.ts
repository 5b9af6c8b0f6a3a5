// A run that stops while opening its task record (an unreadable task.json) takes no lease, and a run
// that fails gives its lease up: the next run of the task in the same process is not refused as
// already running.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateTask } from '../../src/core/config.js';
import { EventBus } from '../../src/core/events.js';
import { migrate } from '../../src/engine/runner.js';
import { PgferryError } from '../../src/core/errors.js';

const root = mkdtempSync(join(tmpdir(), 'pgferry-inprocess-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('a run refused by its task record, or failed, leaves no lease behind', async () => {
  // nothing listens on port 1: the later run fails at the precheck, which is what this test wants
  const url = 'postgresql://u@127.0.0.1:1/db?connect_timeout=2';
  const task = validateTask({ name: 'bad-state', source: url, target: url + '&application_name=t', stateDir: root });
  const dir = join(root, 'bad-state');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'task.json'), '{ not json');
  await assert.rejects(
    migrate(task, { events: new EventBus() }),
    (e) => e instanceof PgferryError && e.kind === 'state' && /task\.json is unreadable/.test(e.message),
  );
  assert.equal(existsSync(join(dir, 'lease.json')), false, 'no lease taken');

  rmSync(join(dir, 'task.json'));
  // (a side that cannot be reached stops the precheck as a connection failure)
  await assert.rejects(
    migrate(task, { events: new EventBus() }),
    (e) => e instanceof PgferryError && e.kind === 'connect',
  );
  assert.ok(existsSync(join(dir, 'report.json')), 'the failed run wrote its report');
  assert.equal(existsSync(join(dir, 'lease.json')), false, 'the lease is released');
  await assert.rejects(
    migrate(task, { events: new EventBus() }),
    (e) => e instanceof PgferryError && e.kind === 'connect',
    'the third run is not refused as already running',
  );
});

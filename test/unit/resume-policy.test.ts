// The service's automatic resume: which failures are run again by themselves, and when.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, resumeVerdict } from '../../src/engine/resume-policy.js';
import { PgferryError } from '../../src/core/errors.js';
import { ConnectError } from '../../src/pg/connect.js';
import { TaskLockHeld } from '../../src/engine/tasklock.js';

/** An ErrorResponse as node-postgres gives it. */
const pgError = (code: string, message: string) => Object.assign(new Error(message), { code, severity: 'FATAL' });

test('transient causes are resumed: retries outlasted, lost connections, shutdowns, too many connections, servers down', () => {
  const transient = [
    new PgferryError('transient', 'copy data: gave up after 4 attempt(s)'),
    pgError('57P01', 'terminating connection due to administrator command'),
    pgError('53300', 'sorry, too many clients already'),
    pgError('08006', 'connection failure'),
    Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
    new Error('Connection terminated unexpectedly'),
    new ConnectError('target', 'connection_refused', 'refused', 'start it', undefined, undefined),
    new ConnectError('target', 'server_not_ready', 'starting up', 'wait', '57P03', undefined),
    // the task's lock on the target held by another session, perhaps a dead run's
    new TaskLockHeld('t', undefined),
  ];
  for (const e of transient) assert.equal(resumeVerdict(e).resume, true, (e as Error).message);
  // a precheck that could not connect: the causes found by connecting again decide
  const unreachable = new PgferryError('connect', 'cannot connect: target');
  assert.equal(resumeVerdict(unreachable, ['connection_refused']).resume, true);
  assert.equal(resumeVerdict(unreachable, ['auth_failed']).resume, false);
  assert.equal(resumeVerdict(unreachable, ['connection_refused', 'auth_failed']).resume, false);
  assert.equal(resumeVerdict(unreachable, []).resume, true, 'both sides answer again');
  assert.equal(resumeVerdict(unreachable).resume, false, 'not probed: nothing says it passed');
});

test('permanent causes stop the task: auth, privileges, precheck, bad task, interruption, failing statements', () => {
  const permanent = [
    new ConnectError('target', 'auth_failed', 'password authentication failed', 'check it', '28P01', undefined),
    new ConnectError('source', 'role_not_found', 'role does not exist', 'create it', '28000', undefined),
    new PgferryError('precheck', 'precheck failed: 1 blocking item'),
    new PgferryError('usage', 'invalid task'),
    new PgferryError('interrupted', 'stopped through the API'),
    new PgferryError('state', 'task is already running'),
    pgError('42501', 'permission denied for table orders'),
    pgError('42P01', 'relation does not exist'),
    new PgferryError('schema', 'CREATE TABLE failed'),
  ];
  for (const e of permanent) assert.equal(resumeVerdict(e).resume, false, (e as Error).message);
});

test('backoff doubles from the base up to the cap, and ends after the last attempt', () => {
  const b = { baseMs: 5000, maxMs: 30_000, maxAttempts: 6 };
  assert.deepEqual(
    [2, 3, 4, 5, 6].map((n) => backoffDelay(n, b)),
    [5000, 10_000, 20_000, 30_000, 30_000],
  );
  assert.equal(backoffDelay(7, b), undefined);
  assert.equal(backoffDelay(50, { ...b, maxAttempts: 0 }), 30_000);
});

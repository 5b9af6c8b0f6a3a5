// One suite for every TaskStore: `taskStoreSuite(name, open)` runs the same tests against stores
// opened by `open` (each call a new instance on the same backing store, as a second process would).
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { PgferryError } from '../../src/core/errors.js';
import { keepLease } from '../../src/state/lease-keeper.js';
import type { TaskStore } from '../../src/state/store.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const stateError = (re: RegExp) => (e: unknown) => {
  assert.ok(e instanceof PgferryError && e.kind === 'state', String(e));
  assert.match(e.message, re);
  assert.ok(e.hint, 'the error says what to do');
  return true;
};

export function taskStoreSuite(name: string, open: () => Promise<TaskStore>): void {
  describe(`task store: ${name}`, () => {
    const opened: TaskStore[] = [];
    const store = async () => {
      const s = await open();
      opened.push(s);
      return s;
    };
    after(async () => {
      for (const s of opened) await s.close();
    });
    basics(store);
    leases(store);
  });
}

function basics(store: () => Promise<TaskStore>): void {
  test('create, get and list', async () => {
    const s = await store();
    const config = { jobs: 2, tables: { 'public.t': { where: 'x > 1' } } };
    const a = await s.create('basic-b', { config, info: { source: 'src' } });
    await s.create('basic-a', { status: 'running', phase: 'schema' });
    assert.equal(a.status, 'created');
    assert.equal(a.rev, 1);
    const got = await (await store()).get('basic-b');
    assert.deepEqual(got?.config, { jobs: 2, tables: { 'public.t': { where: 'x > 1' } } });
    assert.equal(got?.info.source, 'src');
    assert.equal(await s.get('basic-none'), undefined);
    const ids = (await s.list()).map((t) => t.id).filter((id) => id.startsWith('basic-'));
    assert.deepEqual(ids, ['basic-a', 'basic-b']);
    assert.equal((await s.list()).find((t) => t.id === 'basic-a')?.phase, 'schema');
  });

  test('a task is created once; a missing task is not updated', async () => {
    const s = await store();
    await s.create('dup', {});
    await assert.rejects(s.create('dup', { status: 'other' }), stateError(/task "dup" already exists/));
    assert.equal((await s.get('dup'))?.status, 'created');
    await assert.rejects(s.update('nope', { status: 'x' }), stateError(/task "nope" does not exist/));
    await assert.rejects(s.lease('nope', 'h', 1000), stateError(/task "nope" does not exist/));
  });

  test('update changes the given fields, merges info (null removes a key) and counts revisions', async () => {
    const s = await store();
    const c = await s.create('upd', { phase: 'schema', info: { a: 1, b: 2 } });
    await sleep(5);
    const u = await (await store()).update('upd', { status: 'running', info: { b: null, c: 3 } });
    assert.equal(u.status, 'running');
    assert.equal(u.phase, 'schema');
    assert.deepEqual(u.info, { a: 1, c: 3 });
    assert.equal(u.rev, 2);
    assert.ok(Date.parse(u.updatedAt) > Date.parse(c.updatedAt));
    assert.equal(u.createdAt, c.createdAt);
    const v = await s.update('upd', { phase: null });
    assert.equal(v.phase, null);
    assert.equal(v.rev, 3);
  });

  test('passwords never reach the store', async () => {
    const s = await store();
    await s.create('secret', { config: { source: 'postgresql://u:hunter2pw@db/app' } });
    await s.update('secret', { info: { target: 'host=db password=hunter2pw' } });
    const text = JSON.stringify(await (await store()).get('secret'));
    assert.equal(text.includes('hunter2pw'), false, text);
  });

  test('a bad task name is refused before anything is written', async () => {
    const s = await store();
    for (const bad of ['../escape', '', '.hidden', 'a/b', 'x'.repeat(201)]) {
      await assert.rejects(
        s.create(bad, {}),
        (e: unknown) =>
          e instanceof PgferryError &&
          e.kind === 'usage' &&
          /invalid task name/.test(e.message) &&
          /letters, digits/.test(e.hint ?? ''),
      );
    }
    assert.equal(
      (await s.list()).some((t) => t.id.includes('escape') || t.id.includes('hidden')),
      false,
    );
  });
}

function leases(store: () => Promise<TaskStore>): void {
  test('two claimants at once: exactly one gets the lease, every time', async () => {
    const [a, b] = [await store(), await store()];
    for (let i = 0; i < 20; i++) {
      await a.create(`race-${i}`, {});
      const got = await Promise.all([a.lease(`race-${i}`, 'host-a', 10_000), b.lease(`race-${i}`, 'host-b', 10_000)]);
      assert.equal(got.filter(Boolean).length, 1, `round ${i}: ${JSON.stringify(got)}`);
    }
  });

  test('an expired lease goes to the next claimant; its old holder can neither renew nor update', async () => {
    const [a, b] = [await store(), await store()];
    await a.create('expire', {});
    // times generous enough for a loaded machine: the claim right after must fall inside the lease
    const first = await a.lease('expire', 'host-a', 1500);
    assert.ok(first);
    assert.equal(await b.lease('expire', 'host-b', 300), undefined);
    await sleep(1700);
    const second = await b.lease('expire', 'host-b', 10_000);
    assert.ok(second && second.token !== first.token);
    await assert.rejects(a.renew(first, 10_000), stateError(/lease of "host-a" on task "expire" was lost/));
    await assert.rejects(a.update('expire', { status: 'stolen' }, first), stateError(/was lost/));
    assert.equal((await b.get('expire'))?.status, 'created', 'nothing written');
    assert.equal((await b.update('expire', { status: 'mine' }, second)).status, 'mine');
  });

  test('a kept lease is renewed while the task runs and released at the end', async () => {
    const [a, b] = [await store(), await store()];
    await a.create('kept', {});
    // kept for twice its time to live (renewed every third of it, with room for a loaded machine)
    const lease = await a.lease('kept', 'host-a', 1500);
    assert.ok(lease);
    const keeper = keepLease(a, lease, 1500);
    for (let i = 0; i < 10; i++) {
      await sleep(300);
      assert.equal(await b.lease('kept', 'host-b', 300), undefined, `claim ${i} while kept`);
    }
    assert.equal(keeper.lost.aborted, false);
    assert.ok(Date.parse(keeper.current.expiresAt) > Date.parse(lease.expiresAt));
    await keeper.stop();
    assert.ok(await b.lease('kept', 'host-b', 300), 'released: the next claimant gets it at once');
  });

  test('a holder silent for two thirds of its lease is reported unreachable, and keeps the lease until it expires', async () => {
    const [a, b] = [await store(), await store()];
    await a.create('silent', {});
    const lease = await a.lease('silent', 'host-a', 3_000);
    assert.ok(lease);
    assert.equal((await b.currentLease('silent'))?.unreachable, undefined);
    await sleep(2_200);
    const held = await b.currentLease('silent');
    assert.equal(held?.holder, 'host-a');
    assert.equal(held?.unreachable, true);
    assert.equal(await b.lease('silent', 'host-b', 3_000), undefined);
  });

  test('a keeper whose lease was taken reports it lost', async () => {
    const [a, b] = [await store(), await store()];
    await a.create('taken', {});
    const lease = await a.lease('taken', 'host-a', 10_000);
    assert.ok(lease);
    await a.release(lease);
    assert.ok(await b.lease('taken', 'host-b', 10_000));
    const keeper = keepLease(a, lease, 60);
    await sleep(200);
    assert.equal(keeper.lost.aborted, true);
    assert.match(String((keeper.lost.reason as Error).message), /was lost/);
    await keeper.stop();
    assert.equal(await a.lease('taken', 'host-a', 1000), undefined, "stop did not release the other holder's lease");
  });
}

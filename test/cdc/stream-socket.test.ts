// The change stream reads the replication session's CopyData frames straight from the socket. A
// real walsender's bytes pass through a relay that cuts them differently: frames split across reads
// (inside the 5-byte header and inside a 300 kB value), many frames in one read, and the connection
// cut in the middle of a frame; a source restart in the middle of the stream too. Each time the
// decoded changes are exactly the source's, and a new stream resumes from the acknowledged position.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket, connect as tcp } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster } from '../../src/dev/embedded/cluster.js';
import { resolveConnSpec } from '../../src/pg/connstring.js';
import { isTransient } from '../../src/pg/retry.js';
import { ChangeStream, type StreamItem } from '../../src/stages/cdc/stream.js';
import type { Lsn } from '../../src/stages/cdc/lsn.js';
import { withClient } from '../helpers/compare.js';
import { logicalCluster } from './helpers.js';

let pg15: Cluster;
const BIG = 300_000;

before(async () => {
  pg15 = await logicalCluster();
  await withClient(pg15.url(), async (c) => {
    await c.query("CREATE ROLE ferry_src LOGIN REPLICATION PASSWORD 'src-secret'");
    await c.query('CREATE DATABASE src');
  });
  await withClient(pg15.url('src'), async (c) => {
    await c.query(`
      CREATE TABLE t (id int PRIMARY KEY, v text);
      ALTER TABLE t ALTER v SET STORAGE EXTERNAL;
      GRANT SELECT ON t TO ferry_src;
      CREATE PUBLICATION pub FOR TABLE t;`);
  });
});

after(async () => {
  await pg15?.stop();
});

/** Relays the server's bytes to the client as `mode` says; the client's go through unchanged. */
class Relay {
  private server: Server;
  private sockets: Socket[] = [];
  port = 0;
  /** Bytes relayed to the client; cut the connection once this passes `cutAt`. */
  sent = 0;
  cutAt = Number.POSITIVE_INFINITY;

  constructor(
    private target: number,
    private mode: 'split' | 'coalesce' | 'pass',
  ) {
    this.server = createServer((client) => this.relay(client));
  }

  async listen(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
  }

  private relay(client: Socket): void {
    const server = tcp(this.target, '127.0.0.1');
    client.setNoDelay(true);
    this.sockets.push(client, server);
    client.on('data', (b) => server.write(b));
    client.on('error', () => server.destroy());
    server.on('error', () => client.destroy());
    client.on('close', () => server.destroy());
    server.on('close', () => client.destroy());
    let queue: Buffer[] = [];
    let writing = false;
    const pump = async () => {
      if (writing) return;
      writing = true;
      while (queue.length && !client.destroyed) {
        const b = Buffer.concat(queue);
        queue = [];
        if (this.mode === 'split') {
          // pieces of 1 to 13 bytes (cuts inside headers), then up to 4 kB (inside long values)
          for (let at = 0, k = 0; at < b.length; k++) {
            const n = k % 2 === 0 ? 1 + (k % 13) : 4096;
            this.write(client, b.subarray(at, at + n));
            at += n;
            await sleep(1);
          }
        } else {
          this.write(client, b);
          if (this.mode === 'coalesce') await sleep(50); // what arrives meanwhile goes as one write
        }
      }
      writing = false;
    };
    server.on('data', (b) => {
      queue.push(b);
      void pump();
    });
  }

  private write(client: Socket, b: Buffer): void {
    if (client.destroyed) return;
    if (this.sent + b.length > this.cutAt) {
      client.write(b.subarray(0, this.cutAt - this.sent));
      this.sent = this.cutAt;
      for (const s of this.sockets) s.destroy();
      return;
    }
    this.sent += b.length;
    client.write(b);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

const spec = (port: number) =>
  resolveConnSpec(`postgresql://ferry_src:src-secret@127.0.0.1:${port}/src?sslmode=disable`, { env: {} });

/** Items until `commits` transactions are complete; the last commit's end position too. */
async function collect(s: ChangeStream, commits: number): Promise<{ items: StreamItem[]; end: Lsn }> {
  const items: StreamItem[] = [];
  let seen = 0;
  let end = 0n;
  const until = Date.now() + 60_000;
  while (seen < commits) {
    if (Date.now() > until) throw new Error(`${seen} of ${commits} transactions in 60 s`);
    const it = await s.next(500);
    if (!it) {
      s.poke();
      continue;
    }
    if (it.tag === 'keepalive') continue;
    items.push(it);
    if (it.tag === 'commit') {
      seen++;
      end = it.endLsn;
    }
  }
  return { items, end };
}

/** The changes of the items, as text: what the source's transactions did. */
function changes(items: StreamItem[]): string[] {
  return items.flatMap((m) => {
    if (m.tag === 'insert') return [`I ${m.row[0]} ${String(m.row[1]).length}:${String(m.row[1]).slice(0, 20)}`];
    if (m.tag === 'update') return [`U ${m.key?.[0] ?? '-'} ${m.row[0]} ${JSON.stringify(m.row[1]).slice(0, 20)}`];
    if (m.tag === 'delete') return [`D ${m.key?.[0]}`];
    return m.tag === 'begin' || m.tag === 'commit' ? [m.tag] : [];
  });
}

/** A few small transactions (23); what the stream must show of them. */
async function smallTxns(base: number): Promise<string[]> {
  await withClient(pg15.url('src'), async (c) => {
    for (let i = 0; i < 20; i++) await c.query('INSERT INTO t VALUES ($1, $2)', [base + i, `small ${i}`]);
    await c.query('BEGIN');
    await c.query('UPDATE t SET v = $2 WHERE id = $1', [base, 'changed']);
    await c.query('UPDATE t SET id = $2 WHERE id = $1', [base + 1, base + 100]);
    await c.query('DELETE FROM t WHERE id = $1', [base + 2]);
    await c.query('COMMIT');
  });
  return [
    ...Array.from({ length: 20 }, (_, i) => [
      'begin',
      `I ${base + i} ${`small ${i}`.length}:small ${i}`,
      'commit',
    ]).flat(),
    'begin',
    `U - ${base} "changed"`,
    `U ${base + 1} ${base + 100} "small 1"`,
    `D ${base + 2}`,
    'commit',
  ];
}

/** One transaction with a value of BIG bytes, ending with `base`. */
async function bigTxn(base: number): Promise<string[]> {
  const big = 'x'.repeat(BIG - 10) + String(base).padStart(10, '0');
  await withClient(pg15.url('src'), (c) => c.query('INSERT INTO t VALUES ($1, $2)', [base + 50, big]));
  return ['begin', `I ${base + 50} ${BIG}:${'x'.repeat(20)}`, 'commit'];
}

async function workload(base: number): Promise<string[]> {
  return [...(await smallTxns(base)), ...(await bigTxn(base))];
}

function bigValue(items: StreamItem[]): string | undefined {
  for (const m of items) if (m.tag === 'insert' && String(m.row[1]).length === BIG) return String(m.row[1]);
  return undefined;
}

async function slot(name: string): Promise<void> {
  await withClient(pg15.url('src'), (c) =>
    c.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [name]),
  );
}

test('frames split across reads, inside headers and inside a 300 kB value, decode exactly', async () => {
  await slot('split');
  const relay = new Relay(pg15.port, 'split');
  await relay.listen();
  const s = await ChangeStream.start(spec(relay.port), 'split', 'pub', 0n);
  try {
    const want = await workload(1000);
    const { items } = await collect(s, 22);
    assert.deepEqual(changes(items), want);
    assert.equal(bigValue(items), `${'x'.repeat(BIG - 10)}${'1000'.padStart(10, '0')}`);
    assert.ok(s.counts.assembled > 0, `frames assembled across reads: ${JSON.stringify(s.counts)}`);
  } finally {
    s.close();
    await relay.close();
  }
});

test('many frames in one read decode exactly', async () => {
  await slot('coalesce');
  const relay = new Relay(pg15.port, 'coalesce');
  await relay.listen();
  const s = await ChangeStream.start(spec(relay.port), 'coalesce', 'pub', 0n);
  try {
    const want = await workload(2000);
    const { items } = await collect(s, 22);
    assert.deepEqual(changes(items).slice(-want.length), want);
    assert.equal(bigValue(items)?.slice(-10), '2000'.padStart(10, '0'));
    assert.ok(s.counts.frames > s.counts.chunks, `several frames per read: ${JSON.stringify(s.counts)}`);
  } finally {
    s.close();
    await relay.close();
  }
});

test('a connection cut inside a frame, then a source restart: a lost connection, and the resumed stream misses nothing', async () => {
  await slot('cut');
  const relay = new Relay(pg15.port, 'pass');
  await relay.listen();
  let s = await ChangeStream.start(spec(relay.port), 'cut', 'pub', 0n);
  const small = await smallTxns(3000);
  const { items, end } = await collect(s, 21);
  assert.deepEqual(changes(items), small);
  s.ack(end);
  // the big transaction's frame is cut 100 kB into it
  relay.cutAt = relay.sent + 100_000;
  const big = await bigTxn(3000);
  await assert.rejects(
    async () => {
      for (;;) await s.next(500);
    },
    (e: unknown) => isTransient(e),
  );
  s.close();
  await relay.close();
  // resumed from the acknowledged position: the big transaction once, whole
  s = await ChangeStream.start(spec(pg15.port), 'cut', 'pub', end);
  try {
    const resumed = await collect(s, 1);
    assert.deepEqual(changes(resumed.items), big);
    assert.equal(bigValue(resumed.items)?.slice(-10), '3000'.padStart(10, '0'));
    s.ack(resumed.end);
    // the source restarts while the stream waits: a lost connection too, and the next stream
    // starts after the acknowledged transaction
    pg15.restart();
    await assert.rejects(
      async () => {
        for (;;) await s.next(500);
      },
      (e: unknown) => isTransient(e),
    );
    s.close();
    s = await ChangeStream.start(spec(pg15.port), 'cut', 'pub', resumed.end);
    await withClient(pg15.url('src'), (c) => c.query(`INSERT INTO t VALUES (3999, 'after restart')`));
    const last = await collect(s, 1);
    assert.deepEqual(changes(last.items), ['begin', 'I 3999 13:after restart', 'commit']);
  } finally {
    s.close();
  }
});

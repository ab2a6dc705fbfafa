import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { ErrorCodes } from '@gos/schema';
import { waitFor } from '@gos/testing';
import { RedisChatBackend, type ChatBackend } from '../src/index.js';
import { runChatContract } from './contract.js';
import { coded, KEEP, recorder, recordingLogger, said, uniq } from './helpers.js';

const url = process.env['GOS_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
/** Every key of this run lives under this prefix; `after` deletes them all. */
const keyPrefix = `gos-test-chat:${process.pid}-${randomBytes(4).toString('hex')}:`;
/** How long a call to an unreachable Redis may take to fail. */
const PROMPT_MS = 3000;

after(async () => {
  const admin = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const keys = await admin.keys(`${keyPrefix}*`);
    if (keys.length > 0) await admin.del(...keys);
  } finally {
    admin.disconnect();
  }
});

async function started(o: Partial<ConstructorParameters<typeof RedisChatBackend>[0]> = {}): Promise<RedisChatBackend> {
  const backend = new RedisChatBackend({ url, keyPrefix, ...o });
  await backend.start();
  return backend;
}

// Each `make` opens connections of its own: two makes are two gateways on one Redis.
runChatContract('redis', { make: () => started() });

test('redis: the key layout, and every key expires or goes when emptied', async () => {
  const b = await started();
  const admin = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const c = uniq();
    const p = uniq('player');
    const line = await b.append(said(c, 'hello'), { maxLines: 10, maxAgeMs: 60_000 });
    const stream = `${keyPrefix}ch:${c}`;
    assert.equal(await admin.type(stream), 'stream');
    assert.deepEqual(await admin.xrange(stream, '-', '+'), [[line.id, ['from', 'p1', 'name', 'Ann', 'text', 'hello']]]);
    const streamTtl = await admin.pttl(stream);
    assert.ok(streamTtl > 0 && streamTtl <= 60_000, `the stream expires with its newest line (${streamTtl} ms)`);

    await b.hold(p, line, 10, 30_000);
    const held = `${keyPrefix}held:${p}`;
    assert.equal(await admin.type(held), 'list');
    const [entry] = await admin.lrange(held, 0, -1);
    assert.match(entry ?? '', /^\d+ \{/, 'expiry, then the line as JSON');
    const heldTtl = await admin.pttl(held);
    assert.ok(heldTtl > 0 && heldTtl <= 30_000, `held lines expire (${heldTtl} ms)`);
    await b.takeHeld(p);
    assert.equal(await admin.exists(held), 0, 'taken: gone');

    const until = Date.now() + 60_000;
    await b.mute(p, until);
    assert.equal(await admin.get(`${keyPrefix}mute:${p}`), String(until));
    assert.ok((await admin.pttl(`${keyPrefix}mute:${p}`)) > 0, 'the mute expires at its time');
    await b.mute(p, 0);
    assert.equal(await admin.exists(`${keyPrefix}mute:${p}`), 0, 'unmuted: gone');

    await b.block(p, 'q');
    assert.deepEqual(await admin.smembers(`${keyPrefix}block:${p}`), ['q']);
    await b.unblock(p, 'q');
    assert.equal(await admin.exists(`${keyPrefix}block:${p}`), 0, 'nobody blocked: gone');
  } finally {
    admin.disconnect();
    await b.close();
  }
});

test('redis: malformed messages on the fan-out channel are logged and dropped; the subscriber goes on', async () => {
  const { logger, warnings } = recordingLogger();
  const b = await started({ logger });
  const raw = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const heard = recorder();
    await b.subscribe(heard.onFrame);
    const garbage = [
      Buffer.alloc(0),
      Buffer.from([1]),
      Buffer.from([1, 0]),
      Buffer.from([2, 0, 1, 0x61, 9]), // another version
      Buffer.from([1, 0, 10, 0x61]), // a name longer than the message
      Buffer.from([1, 0xff, 0xff]),
      Buffer.from([1, 0, 2, 0xc3, 0x28, 9]), // not UTF-8
      Buffer.from([1, 0, 3, 0x61, 0x20, 0x62, 9]), // 'a b': not a channel name
      Buffer.from([1, 0, 0, 9]), // an empty name
      Buffer.from('hello, chat'),
    ];
    for (const g of garbage) await raw.publish(`${keyPrefix}fanout`, g);
    await raw.publish(`${keyPrefix}fanout`, 'a string, not bytes');
    await b.publish('world', Buffer.from('fine'));
    await waitFor(() => heard.heard.length === 1, { message: 'the good frame' });
    assert.equal(heard.heard[0]?.frame.toString(), 'fine');
    assert.equal(heard.heard[0]?.channel, 'world');
    const dropped = warnings.filter((w) => w.msg.includes('malformed'));
    assert.equal(dropped.length, garbage.length + 1, dropped.map((w) => JSON.stringify(w.obj)).join('\n'));
  } finally {
    raw.disconnect();
    await b.close();
  }
});

test('redis: an unreachable Redis fails start and every call with CHAT_ERR_BACKEND promptly, never a hang', async () => {
  const failed = coded(ErrorCodes.CHAT_ERR_BACKEND);
  const timed = async (what: string, call: () => Promise<unknown>): Promise<void> => {
    const t0 = performance.now();
    await assert.rejects(call(), failed, what);
    const took = performance.now() - t0;
    assert.ok(took < PROMPT_MS, `${what} took ${Math.round(took)} ms`);
  };
  const down = 'redis://127.0.0.1:1';
  const once = new RedisChatBackend({ url: down, keyPrefix });
  await timed('start', () => once.start());
  await timed('append after a failed start', () => once.append(said('world', 'x'), KEEP));
  await timed('start again', () => once.start());
  await once.close();

  // Never started: each call connects on its own and fails after a bounded retry.
  const lazy: ChatBackend = new RedisChatBackend({ url: down, keyPrefix });
  const line = { ...said('world', 'x'), id: '1-0', at: 1 };
  await Promise.all([
    timed('append', () => lazy.append(said('world', 'x'), KEEP)),
    timed('history', () => lazy.history('world', 10)),
    timed('hold', () => lazy.hold('p', line, 10, 1000)),
    timed('takeHeld', () => lazy.takeHeld('p')),
    timed('mute', () => lazy.mute('p', 0)),
    timed('mutedUntil', () => lazy.mutedUntil('p')),
    timed('block', () => lazy.block('p', 'q')),
    timed('unblock', () => lazy.unblock('p', 'q')),
    timed('blocked', () => lazy.blocked('p')),
    timed('blocks', () => lazy.blocks('p', 'q')),
    timed('publish', () => lazy.publish('world', new Uint8Array(1))),
    timed('subscribe', () => lazy.subscribe(() => {})),
  ]);
  await lazy.close();
});

/** A TCP proxy to Redis that can go away and come back on the same port: Redis restarting, as the backend sees it. */
async function redisProxy(target: string): Promise<{ url: string; stop(): Promise<void>; start(): Promise<void> }> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  let listenOn = 0;
  const start = async (): Promise<void> => {
    const s = createServer((client) => {
      const upstream = connect(Number(port || 6379), hostname);
      for (const sock of [client, upstream]) {
        sockets.add(sock);
        sock.on('close', () => sockets.delete(sock));
        sock.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => s.once('error', reject).listen(listenOn, '127.0.0.1', () => resolve()));
    const address = s.address();
    if (address === null || typeof address === 'string') throw new Error('the proxy has no port');
    listenOn = address.port;
    server = s;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${listenOn}`,
    start,
    stop: async () => {
      const s = server;
      server = null;
      for (const sock of sockets) sock.destroy();
      if (s !== null) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
}

test('redis: while Redis is away calls fail promptly with CHAT_ERR_BACKEND; once it is back, calls work and the subscriber hears again', async () => {
  const proxy = await redisProxy(url);
  const b = await started({ url: proxy.url });
  const direct = await started();
  try {
    const heard = recorder();
    await b.subscribe(heard.onFrame);
    const c = uniq();
    await b.append(said(c, 'before'), KEEP);
    await proxy.stop();
    const t0 = performance.now();
    await assert.rejects(b.append(said(c, 'away'), KEEP), coded(ErrorCodes.CHAT_ERR_BACKEND));
    await assert.rejects(b.history(c, 10), coded(ErrorCodes.CHAT_ERR_BACKEND));
    assert.ok(performance.now() - t0 < PROMPT_MS, `failed in ${Math.round(performance.now() - t0)} ms`);
    await proxy.start();
    await waitFor(() => b.append(said(c, 'after'), KEEP).then(() => true, () => false), { message: 'the backend to reconnect' });
    assert.deepEqual((await direct.history(c, 10)).map((l) => l.text), ['before', 'after']);
    // Frames published while the subscriber was away are lost (pub/sub); it hears new ones once subscribed again.
    await waitFor(
      async () => {
        await direct.publish('world', Buffer.from('again'));
        return heard.heard.some((h) => h.frame.toString() === 'again');
      },
      { message: 'the subscriber to subscribe again', intervalMs: 50 },
    );
  } finally {
    await Promise.all([b.close(), direct.close()]);
    await proxy.stop();
  }
});

test('redis: options are checked', () => {
  const invalid = coded(ErrorCodes.OPT_ERR_INVALID);
  assert.throws(() => new RedisChatBackend({ url: 'http://127.0.0.1:6379' }), invalid);
  assert.throws(() => new RedisChatBackend({ url: undefined as unknown as string }), invalid);
  assert.throws(() => new RedisChatBackend({ url, keyPrefix: 5 as unknown as string }), invalid);
  assert.throws(() => new RedisChatBackend({ url, commandTimeoutMs: 0 }), invalid);
});

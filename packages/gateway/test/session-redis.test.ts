import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout } from 'node:timers/promises';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { waitFor } from '@gos/testing';
import { RedisSessionStore, sessionTokenId, type RedisSessionStoreOptions } from '../src/session/index.js';
import { runSessionStoreContract } from './session-contract.js';

const url = process.env['GOS_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
/** Every key of this run lives under this prefix; `after` deletes them all. */
const runPrefix = `gos-test:${process.pid}-${randomBytes(4).toString('hex')}:`;
let seq = 0;
const admin = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });

async function keysUnder(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

after(async () => {
  if (admin.status === 'ready') {
    const keys = await keysUnder(runPrefix);
    if (keys.length > 0) await admin.del(...keys);
    await admin.quit();
  } else {
    admin.disconnect();
  }
});

/** A store on its own connection, under a fresh prefix inside this run's prefix. */
async function makeStore(o: RedisSessionStoreOptions = {}): Promise<RedisSessionStore> {
  if (admin.status === 'wait') await admin.connect();
  const store = new RedisSessionStore({ url, keyPrefix: `${runPrefix}${++seq}:`, ...o });
  await store.start();
  return store;
}

runSessionStoreContract(
  'redis',
  // A duration, not a condition: the TTLs run on Redis's clock, which the test cannot move.
  async ({ ttlMs }) => ({ store: await makeStore({ ttlMs }), advance: (ms) => setTimeout(ms) }),
  400,
);

test('redis: Redis holds only token ids, with the documented layout and expiry', async () => {
  const store = await makeStore({ ttlMs: 60_000 });
  try {
    const tokens: string[] = [];
    for (const a of ['k1', 'k2', 'k2']) tokens.push((await store.create({ accountId: a, username: a, sceneId: 'world:1' })).session.token);
    const [, , live] = tokens as [string, string, string];
    const keys = await keysUnder(store.keyPrefix);
    const id = sessionTokenId(live);
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.deepEqual(keys.sort(), [`${store.keyPrefix}acct:k1`, `${store.keyPrefix}acct:k2`, `${store.keyPrefix}sess:${sessionTokenId(tokens[0]!)}`, `${store.keyPrefix}sess:${id}`].sort());
    assert.equal(await admin.get(`${store.keyPrefix}acct:k2`), id);
    const hash = await admin.hgetall(`${store.keyPrefix}sess:${id}`);
    assert.deepEqual(Object.keys(hash).sort(), ['accountId', 'createdAt', 'expiresAt', 'groupId', 'sceneId', 'username']);
    assert.equal(hash['groupId'], '', 'no group');
    for (const key of [`${store.keyPrefix}sess:${id}`, `${store.keyPrefix}acct:k2`]) {
      const pttl = await admin.pttl(key);
      assert.ok(pttl > 55_000 && pttl <= 60_000, `${key} pttl ${pttl}`);
    }
    // Nothing stored anywhere contains a usable token.
    const dump = JSON.stringify(await Promise.all(keys.map(async (k) => [k, (await admin.type(k)) === 'hash' ? await admin.hgetall(k) : await admin.get(k)])));
    for (const t of tokens) assert.ok(!dump.includes(t), 'raw token found in Redis');
    // get slides the account key too.
    await admin.pexpire(`${store.keyPrefix}acct:k2`, 5_000);
    assert.ok((await store.get(live)) !== null);
    assert.ok((await admin.pttl(`${store.keyPrefix}acct:k2`)) > 55_000);
    // Revoke removes both keys of the current session.
    await store.revoke(live);
    assert.deepEqual(await keysUnder(`${store.keyPrefix}acct:k2`), []);
    assert.deepEqual(await keysUnder(`${store.keyPrefix}sess:${id}`), []);
  } finally {
    await store.close();
  }
});

test('redis: a group is one key holding its gateway id, with the session ttl, extended by its members\' sessions', async () => {
  const store = await makeStore({ ttlMs: 60_000 });
  try {
    const key = `${store.keyPrefix}group:guild-7`;
    const { session } = await store.create({ accountId: 'gm', username: 'gm', sceneId: 'world:1', groupId: 'guild-7' });
    assert.equal(await admin.hget(`${store.keyPrefix}sess:${sessionTokenId(session.token)}`, 'groupId'), 'guild-7');
    assert.equal(await admin.exists(key), 0, 'a session alone assigns nothing');
    assert.equal(await store.touch(session.token), true, 'touching a member of a group with no gateway is harmless');
    assert.equal(await admin.exists(key), 0);
    assert.equal(await store.assignGroupGateway('guild-7', 'gateway-2', null), 'gateway-2');
    assert.equal(await admin.get(key), 'gateway-2');
    const pttl = await admin.pttl(key);
    assert.ok(pttl > 55_000 && pttl <= 60_000, `pttl ${pttl}`);
    await admin.pexpire(key, 5_000);
    assert.equal(await store.touch(session.token), true);
    assert.ok((await admin.pttl(key)) > 55_000, 'a member\'s touch extends the group');
    await admin.pexpire(key, 5_000);
    assert.equal(await store.groupGateway('guild-7'), 'gateway-2');
    assert.ok((await admin.pttl(key)) > 55_000, 'a lookup extends the group');
    // A session written before groups existed (no groupId field) reads as having none.
    await admin.hdel(`${store.keyPrefix}sess:${sessionTokenId(session.token)}`, 'groupId');
    assert.equal((await store.get(session.token))?.groupId, null);
    // A foreign value under the group key is a store error, not a gateway id.
    await admin.del(key);
    await admin.hset(key, 'x', '1');
    await assert.rejects(store.groupGateway('guild-7'), { code: 'GW_ERR_SESSION_STORE' });
  } finally {
    await store.close();
  }
});

test('redis: replaced is the raw token when this instance knew it, else its id', async () => {
  const keyPrefix = `${runPrefix}${++seq}:`;
  const a = await makeStore({ keyPrefix });
  const b = await makeStore({ keyPrefix });
  try {
    const first = await a.create({ accountId: 'p', username: 'p', sceneId: 's' });
    const second = await b.create({ accountId: 'p', username: 'p', sceneId: 's' });
    assert.equal(second.replaced, sessionTokenId(first.session.token), 'b never saw the first token');
    assert.equal(await a.get(first.session.token), null, 'revoked for every instance');
    assert.ok((await a.get(second.session.token)) !== null);
    // a resolved the second token with get, so it can report it raw.
    const third = await a.create({ accountId: 'p', username: 'p', sceneId: 's' });
    assert.equal(third.replaced, second.session.token);
    assert.equal(await b.get(second.session.token), null);
  } finally {
    await a.close();
    await b.close();
  }
});

test('redis: a caller-owned client keeps its own keyPrefix and is not closed', async () => {
  const client = new Redis(url, { keyPrefix: `${runPrefix}client:` });
  const store = new RedisSessionStore({ redis: client, keyPrefix: 'sessions:' });
  try {
    await store.start();
    const first = await store.create({ accountId: 'c', username: 'c', sceneId: 's' });
    const second = await store.create({ accountId: 'c', username: 'c', sceneId: 's' });
    assert.equal(second.replaced, first.session.token);
    assert.equal(await store.get(first.session.token), null, 'old session deleted under the client prefix');
    assert.ok((await store.get(second.session.token)) !== null);
    assert.equal((await keysUnder(`${runPrefix}client:sessions:`)).length, 2);
    await store.close();
    assert.equal(await client.ping(), 'PONG', 'the client is still usable');
  } finally {
    await store.close();
    await client.quit();
  }
});

test('redis: scripts are reloaded after SCRIPT FLUSH', async () => {
  const store = await makeStore();
  try {
    const { session } = await store.create({ accountId: 'f', username: 'f', sceneId: 's' });
    await admin.script('FLUSH');
    assert.ok((await store.get(session.token)) !== null);
  } finally {
    await store.close();
  }
});

test('redis: Redis errors become GW_ERR_SESSION_STORE with the cause', async () => {
  const store = await makeStore();
  try {
    const { session } = await store.create({ accountId: 'w', username: 'w', sceneId: 's' });
    // A foreign string where the session hash should be: Redis answers WRONGTYPE.
    await admin.set(`${store.keyPrefix}sess:${sessionTokenId(session.token)}`, 'junk', 'PX', 60_000);
    const err = await store.get(session.token).then(
      () => assert.fail('expected a rejection'),
      (e: unknown) => e as { code?: string; cause?: unknown },
    );
    assert.equal(err.code, 'GW_ERR_SESSION_STORE');
    assert.ok(err.cause instanceof Error && /WRONGTYPE/.test(err.cause.message));
  } finally {
    await store.close();
  }
});

test('redis: an unreachable Redis fails start() with GW_ERR_SESSION_STORE and leaves no handle', async () => {
  const store = new RedisSessionStore({ url: 'redis://127.0.0.1:1' });
  await assert.rejects(store.start(), (err: { code?: string; cause?: unknown }) => {
    return err.code === 'GW_ERR_SESSION_STORE' && err.cause instanceof Error && /ECONNREFUSED/.test(err.cause.message);
  });
  await store.close();
  await store.close();
});

test('redis: options are validated with OPT_ERR_INVALID naming the option', () => {
  const cases: [RedisSessionStoreOptions, string][] = [
    [{ ttlMs: 0 }, 'ttlMs'],
    [{ url: 'http://x' }, 'url'],
    [{ url, redis: admin }, 'url'],
    [{ redis: {} as Redis }, 'redis'],
    [{ keyPrefix: 5 as unknown as string }, 'keyPrefix'],
    [{ maxKnownTokens: -1 }, 'maxKnownTokens'],
    [{ commandTimeoutMs: 0 }, 'commandTimeoutMs'],
  ];
  for (const [o, name] of cases) {
    assert.throws(() => new RedisSessionStore(o), (err: { code?: string; message?: string }) => {
      return err.code === 'OPT_ERR_INVALID' && err.message?.includes(`"${name}"`) === true;
    }, name);
  }
});

test('redis: close() releases the connection it owns', async () => {
  // Unref'd timers are not listed here: only what keeps the process alive.
  const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
  // A duration, not a condition: sockets the tests before closed finish closing (none to wait on).
  await setTimeout(10);
  const before = sockets();
  const store = await makeStore();
  try {
    await store.create({ accountId: 'leak', username: 'leak', sceneId: 's' });
    assert.equal(sockets(), before + 1);
  } finally {
    await store.close();
  }
  await waitFor(() => sockets() === before, { timeoutMs: 2000, message: 'the store\'s socket to be released' });
});

/**
 * The same end-to-end path on the production backends: accounts, players and scenes in
 * MariaDB/MySQL (mysql2) and sessions in Redis (ioredis), over real connections.
 * Needs GOS_TEST_MYSQL_URL and GOS_TEST_REDIS_URL (scripts/test.sh sets both).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { GameClient, login, register } from '@gos/client';
import { waitFor } from '@gos/testing';
import { createApi, protocol } from '../src/generated/protocol.js';
import { joinAs, mysqlAdmin, scratchDatabase, startCluster, uniqueName } from './helpers.js';

const REDIS = process.env.GOS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const suffix = randomBytes(4).toString('hex');
const prefix = `gos-test-${suffix}:`;
let db: Awaited<ReturnType<typeof scratchDatabase>>;
let url: string;

before(async () => {
  db = await scratchDatabase('e2e');
  url = db.url;
});

after(async () => {
  await db.drop();
  const redis = new Redis(REDIS);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

test('MySQL + Redis: play, restart, reconnect with the same token, resume where you left', async () => {
  const opts = { mysqlUrl: url, redisUrl: REDIS, redisKeyPrefix: prefix, serveWeb: false };
  const name = uniqueName('prod');
  let where: { x: number; y: number };
  let auth: { token: string; accountId: string };
  {
    const cluster = await startCluster('unused.db', opts);
    try {
      await register(cluster.url, name, 'correct-horse-1');
      auth = await login(cluster.url, name, 'correct-horse-1');
      const a = new GameClient({ url: cluster.gateway.publicUrl, token: auth.token, protocol, WebSocket: WebSocket, reconnect: false });
      await a.connect();
      const b = await joinAs(cluster.url, uniqueName('peer'));
      const seen = new Set<string>();
      b.client.onPush('WorldSnapshot', (s) => s.players.forEach((p) => seen.add(p.id)));
      const api = createApi(a);
      const me = await api.whoami({});
      const res = await api.move({ seq: 1, x: me.x + 20, y: me.y - 20 });
      where = { x: res.x, y: res.y };
      await waitFor(() => seen.has(auth.accountId), { timeoutMs: 3000, message: 'B to see A' });
      const redis = new Redis(REDIS);
      const keys = await redis.keys(`${prefix}*`);
      await redis.quit();
      assert.ok(keys.length >= 2, 'sessions are in Redis');
      assert.ok(keys.every((k) => !k.includes(auth.token)), 'tokens are not stored in clear');
    } finally {
      await cluster.close();
    }
  }
  const [rows] = await mysqlAdmin((c) => c.query(`SELECT COUNT(*) AS n FROM \`${db.name}\`.players`));
  assert.ok(Number((rows as Array<{ n: number }>)[0]!.n) >= 2, 'players were written to MySQL');
  const cluster = await startCluster('unused.db', opts);
  try {
    // The session lives in Redis: the old token still works after the restart.
    const a = new GameClient({ url: cluster.gateway.publicUrl, token: auth.token, protocol, WebSocket: WebSocket, reconnect: false });
    await a.connect();
    const me = await createApi(a).whoami({});
    assert.equal(me.playerId, auth.accountId);
    assert.deepEqual({ x: me.x, y: me.y }, where);
    await a.close();
  } finally {
    await cluster.close();
  }
});

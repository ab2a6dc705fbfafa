/**
 * The demo's distance board (docs/leaderboards.md) over real sockets: metres walked on the
 * world maps are submitted by the maps (on request, every few seconds, when a player leaves)
 * and read back through the typed `leaderboard` route; in memory on the embedded cluster, and in
 * Redis shared by two processes' engines (with MariaDB holding their accounts).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { waitFor } from '@gos/testing';
import { inward, joinAs, scratchDatabase, startCluster, tempDir, uniqueName, type Player } from './helpers.js';

const REDIS = process.env.GOS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `gos-test-lb-${randomBytes(4).toString('hex')}:`;

let dir: Awaited<ReturnType<typeof tempDir>>;
let db: Awaited<ReturnType<typeof scratchDatabase>>;
before(async () => {
  dir = await tempDir();
  db = await scratchDatabase('lb');
});
after(async () => {
  await dir.remove();
  await db.drop();
  const redis = new Redis(REDIS);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

/** Walk `steps` steps towards the middle of the map (each at most its burst, 60 m, so a pause between them): the metres actually walked. */
async function walk(p: Player, steps: number, stepM: number): Promise<number> {
  let at = await p.api.whoami({});
  let metres = 0;
  for (let i = 0; i < steps; i++) {
    // Away from the edges: neither the map's edge shortens a step nor a portal takes the player away.
    const done = await p.api.move({ seq: i + 1, x: inward(at.x, stepM), y: at.y });
    metres += Math.hypot(done.x - at.x, done.y - at.y);
    at = { ...at, x: done.x, y: done.y };
    // A duration, not a condition: a pause between steps, each within the move's burst.
    await new Promise((r) => setTimeout(r, 250));
  }
  return metres;
}

test('embedded: walks are ranked on the distance board, read as the top and around a player; a leaving player is counted', async () => {
  const cluster = await startCluster(join(dir.path, 'lb.db'));
  const players: Player[] = [];
  try {
    const a = await joinAs(cluster.url, uniqueName('lba'));
    const b = await joinAs(cluster.url, uniqueName('lbb'));
    players.push(a, b);
    assert.deepEqual(await a.api.leaderboard({ around: false }), { board: 'distance-daily', entries: [], total: 0, myRank: 0, myScore: 0 }, 'nobody walked yet');

    const aWalked = await walk(a, 3, 50);
    const bWalked = await walk(b, 1, 30);
    assert.ok(aWalked > bWalked && bWalked > 0, `${aWalked} > ${bWalked}`);
    // Each asking player's own steps are submitted first.
    await b.api.leaderboard({ around: false });
    const top = await a.api.leaderboard({ around: false });
    assert.equal(top.total, 2);
    assert.deepEqual(
      top.entries.map((e) => [e.rank, e.name, e.playerId]),
      [
        [1, a.username, a.accountId],
        [2, b.username, b.accountId],
      ],
    );
    assert.ok(Math.abs(top.entries[0]!.score - aWalked) <= 1, `${top.entries[0]!.score} ≈ ${aWalked}`);
    assert.equal(top.myRank, 1);
    const near = await b.api.leaderboard({ around: true });
    assert.deepEqual(near.entries.map((e) => e.name), [a.username, b.username]);
    assert.deepEqual([near.myRank, Math.abs(near.myScore - bWalked) <= 1], [2, true]);

    // c walks and leaves without asking: its steps are submitted as it leaves.
    const c = await joinAs(cluster.url, uniqueName('lbc'));
    const cWalked = await walk(c, 4, 55);
    await c.client.close();
    await waitFor(async () => (await a.api.leaderboard({ around: false })).entries[0]?.name === c.username, { timeoutMs: 5000, message: `c (${cWalked} m) first on the board`, intervalMs: 100 });
  } finally {
    for (const p of players) await p.client.close();
    await cluster.close();
  }
});

test('MariaDB + Redis: two processes\' engines share one board in Redis', async () => {
  const opts = { mysqlUrl: db.url, redisUrl: REDIS, redisKeyPrefix: prefix, serveWeb: false };
  const one = await startCluster('unused.db', opts);
  const two = await startCluster('unused.db', opts);
  const players: Player[] = [];
  try {
    const a = await joinAs(one.url, uniqueName('lbra'));
    const b = await joinAs(two.url, uniqueName('lbrb'));
    players.push(a, b);
    await walk(a, 1, 20);
    await walk(b, 2, 50);
    await a.api.leaderboard({ around: false });
    const seen = await b.api.leaderboard({ around: false });
    assert.deepEqual(seen.entries.map((e) => e.name), [b.username, a.username], 'both engines wrote to the same board');
    assert.equal((await a.api.leaderboard({ around: true })).myRank, 2);
    const redis = new Redis(REDIS);
    try {
      assert.equal(await redis.sismember(`${prefix}lb:boards`, 'distance-daily'), 1, 'the board lives in Redis under the sessions\' prefix');
    } finally {
      await redis.quit();
    }
  } finally {
    for (const p of players) await p.client.close();
    await one.close();
    await two.close();
  }
});

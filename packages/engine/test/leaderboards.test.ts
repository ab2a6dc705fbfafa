/**
 * `scene.leaderboards`: scene code on a worker thread reaches the engine's leaderboards (memory
 * and real Redis) through its main thread, with the same results and the same coded errors as
 * the API itself; an engine without leaderboards refuses with LB_ERR_NOT_CONFIGURED.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { ErrorCodes } from '@gos/schema';
import { Leaderboards, MemoryLeaderboardBackend, RedisLeaderboardBackend, type LeaderboardBackend } from '@gos/leaderboard';
import { startCluster } from './helpers.js';

const redisUrl = process.env['GOS_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const keyPrefix = `gos-test-eng-lb:${process.pid}-${randomBytes(4).toString('hex')}:`;

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gos-engine-lb-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
  const admin = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    const keys = await admin.keys(`${keyPrefix}*`);
    if (keys.length > 0) await admin.del(...keys);
  } finally {
    admin.disconnect();
  }
});

type Outcome = { ok: true; result: unknown } | { ok: false; code: string };

for (const [name, backend] of [
  ['memory', () => new MemoryLeaderboardBackend()],
  ['redis', () => new RedisLeaderboardBackend({ url: redisUrl, keyPrefix })],
] as Array<[string, () => LeaderboardBackend]>) {
  test(`${name}: a scene creates a board, submits scores and reads ranks through the engine's leaderboards`, async () => {
    const lb = new Leaderboards({ backend: backend(), archiver: false });
    await lb.start();
    const c = await startCluster(dir, `lb-${name}`, { workers: 1, engine: { leaderboards: lb } });
    const op = async (o: string, ...args: unknown[]): Promise<Outcome> => (await c.gw.request(1, 'leaderboard', { op: o, args })).body as Outcome;
    try {
      await c.gw.join(1, 'ann');
      const created = await op('create', 'kills', { policy: 'increment', reset: '0 0 * * *' });
      assert.equal(created.ok, true, JSON.stringify(created));
      assert.deepEqual(await op('submit', 'kills', 'ann', 3, { data: { name: 'Ann' } }), { ok: true, result: { score: 3, rank: 1, changed: true } });
      assert.deepEqual(await op('submit', 'kills', 'bob', 5), { ok: true, result: { score: 5, rank: 1, changed: true } });
      assert.deepEqual(await op('submit', 'kills', 'ann', 4), { ok: true, result: { score: 7, rank: 1, changed: true } });
      // The main thread's view is the same board.
      assert.deepEqual(await lb.get('kills', 'ann'), { memberId: 'ann', score: 7, rank: 1, data: { name: 'Ann' } });
      await lb.submit('kills', 'cid', 6);
      const page = await op('page', 'kills', { limit: 2 });
      assert.deepEqual(page, { ok: true, result: { total: 3, entries: [{ memberId: 'ann', score: 7, rank: 1, data: { name: 'Ann' } }, { memberId: 'cid', score: 6, rank: 2, data: null }] } });
      assert.deepEqual(await op('around', 'kills', 'bob', { before: 1, after: 0 }), { ok: true, result: [{ memberId: 'cid', score: 6, rank: 2, data: null }, { memberId: 'bob', score: 5, rank: 3, data: null }] });
      assert.deepEqual(await op('get', 'kills', 'nobody'), { ok: true, result: null });
      assert.deepEqual(await op('count', 'kills'), { ok: true, result: 3 });
      assert.deepEqual(await op('page', 'kills'), { ok: true, result: { total: 3, entries: (await lb.page('kills')).entries } }, 'optional arguments left out');
      const listed = await op('list');
      assert.ok(listed.ok && Array.isArray(listed.result) && listed.result.some((b: { name: string }) => b.name === 'kills'));

      // Errors keep their codes across the thread.
      assert.deepEqual(await op('submit', 'nope', 'ann', 1), { ok: false, code: ErrorCodes.LB_ERR_UNKNOWN_BOARD });
      assert.deepEqual(await op('submit', 'kills', 'ann', 'lots'), { ok: false, code: ErrorCodes.OPT_ERR_INVALID });
      assert.deepEqual(await op('submit', 'kills', 'ann', Number.NaN), { ok: false, code: ErrorCodes.OPT_ERR_INVALID }, 'NaN is null in JSON: not a score');
      assert.deepEqual(await op('page', "kills'; --", {}), { ok: false, code: ErrorCodes.OPT_ERR_INVALID });
      assert.deepEqual(await op('create', 'kills', { policy: 'best' }), { ok: false, code: ErrorCodes.LB_ERR_BOARD_EXISTS });
      assert.deepEqual(await op('periods', 'kills'), { ok: false, code: ErrorCodes.LB_ERR_NOT_CONFIGURED }, 'no archive given to these leaderboards');
      assert.deepEqual(await op('delete', 'kills'), { ok: true, result: true });
      assert.deepEqual(await op('count', 'kills'), { ok: false, code: ErrorCodes.LB_ERR_UNKNOWN_BOARD });
    } finally {
      await c.close();
      await lb.close();
    }
  });
}

test('an engine without leaderboards refuses scene.leaderboards with LB_ERR_NOT_CONFIGURED, and goes on', async () => {
  const c = await startCluster(dir, 'lb-none', { workers: 1 });
  try {
    await c.gw.join(1, 'ann');
    assert.deepEqual((await c.gw.request(1, 'leaderboard', { op: 'count', args: ['kills'] })).body, { ok: false, code: ErrorCodes.LB_ERR_NOT_CONFIGURED });
    assert.deepEqual((await c.gw.request(1, 'leaderboard', { op: 'list', args: [] })).body, { ok: false, code: ErrorCodes.LB_ERR_NOT_CONFIGURED }, 'and again: the scene goes on');
  } finally {
    await c.close();
  }
});

import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { CodedError, ErrorCodes } from '@gos/schema';
import { Leaderboards, RedisLeaderboardBackend } from '../src/index.js';
import { runLeaderboardContract } from './contract.js';

const url = process.env['GOS_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
/** Every key of this run lives under this prefix; `after` deletes them all. */
const keyPrefix = `gos-test-lb:${process.pid}-${randomBytes(4).toString('hex')}:`;

after(async () => {
  const admin = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const keys = await admin.keys(`${keyPrefix}*`);
    if (keys.length > 0) await admin.del(...keys);
  } finally {
    admin.disconnect();
  }
});

// Each `make` opens a connection of its own: two makes are two engines on one Redis.
runLeaderboardContract('redis', {
  make: async () => {
    const backend = new RedisLeaderboardBackend({ url, keyPrefix });
    await backend.start();
    return backend;
  },
});

test('redis: deleting a board frees every key it had (standings of every period, counter, lists)', async () => {
  const backend = new RedisLeaderboardBackend({ url, keyPrefix });
  const lb = new Leaderboards({ backend, archiver: false });
  await lb.start();
  const admin = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const board = `gone${randomBytes(4).toString('hex')}`;
    await lb.create(board, { policy: 'best', reset: '0 * * * *' });
    for (const m of ['a', 'b', 'c']) await lb.submit(board, m, 1, { data: { m } });
    assert.ok((await admin.keys(`${keyPrefix}lb:{${board}}*`)).length >= 5, 'the definition, counter, period list and standings');
    assert.equal(await lb.delete(board), true);
    assert.deepEqual(await admin.keys(`${keyPrefix}lb:{${board}}*`), []);
    assert.equal(await admin.sismember(`${keyPrefix}lb:boards`, board), 0);
  } finally {
    admin.disconnect();
    await lb.close();
  }
});

test('redis: an unreachable Redis is LB_ERR_BACKEND at start, not a hang or a crash', async () => {
  const backend = new RedisLeaderboardBackend({ url: 'redis://127.0.0.1:1', keyPrefix, commandTimeoutMs: 500 });
  await assert.rejects(backend.start(), (err: unknown) => err instanceof CodedError && err.code === ErrorCodes.LB_ERR_BACKEND);
  await backend.close();
});

import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { CodedError, ErrorCodes } from '@gos/schema';
import { RedisLeaderboardBackend } from '../src/index.js';
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

test('redis: an unreachable Redis is LB_ERR_BACKEND at start, not a hang or a crash', async () => {
  const backend = new RedisLeaderboardBackend({ url: 'redis://127.0.0.1:1', keyPrefix, commandTimeoutMs: 500 });
  await assert.rejects(backend.start(), (err: unknown) => err instanceof CodedError && err.code === ErrorCodes.LB_ERR_BACKEND);
  await backend.close();
});

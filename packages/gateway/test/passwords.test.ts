import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KdfLimiter, hashPassword, verifyPassword } from '../src/passwords.js';

test('scrypt hashes verify, carry their parameters and never repeat', async () => {
  const a = await hashPassword("p'; DROP TABLE accounts; --", 1024);
  const b = await hashPassword("p'; DROP TABLE accounts; --", 1024);
  assert.match(a, /^scrypt\$1024\$8\$1\$[\w-]+\$[\w-]+$/);
  assert.notEqual(a, b);
  assert.equal(await verifyPassword("p'; DROP TABLE accounts; --", a), true);
  assert.equal(await verifyPassword('wrong', a), false);
  assert.equal(await verifyPassword('x', 'not-a-hash'), false);
  assert.equal(await verifyPassword('x', ''), false);
});

test('the KDF limiter runs at most N at once, queues boundedly, and refuses beyond', async () => {
  const limiter = new KdfLimiter(1, 1);
  let running = 0;
  let peak = 0;
  const releases: Array<() => void> = [];
  const job = () =>
    limiter.run(async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise<void>((r) => releases.push(r));
      running--;
      return 'done';
    });
  const first = job();
  const second = job();
  await assert.rejects(job(), { code: 'GW_ERR_RATE_LIMITED' });
  await new Promise((r) => setImmediate(r));
  releases.shift()!();
  assert.equal(await first, 'done');
  await new Promise((r) => setImmediate(r));
  releases.shift()!();
  assert.equal(await second, 'done');
  assert.equal(peak, 1);
  // Slots are free again.
  const third = job();
  await new Promise((r) => setImmediate(r));
  releases.shift()!();
  assert.equal(await third, 'done');
});

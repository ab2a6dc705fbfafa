import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateLimits, takeToken } from '../src/rate-limits.js';

const OPTIONS = { messagesPerSecond: 10, messageBurst: 20, authRequestsPerSecond: 1, authBurst: 2, rateLimitCooldownMs: 1000, addressStrikes: 2 };

test('a token bucket refills at its rate up to its burst', () => {
  const bucket = { tokens: 2, at: 0 };
  assert.equal(takeToken(bucket, 0, 10, 2), true);
  assert.equal(takeToken(bucket, 0, 10, 2), true);
  assert.equal(takeToken(bucket, 0, 10, 2), false);
  assert.equal(takeToken(bucket, 100, 10, 2), true, 'one token after 100 ms at 10/s');
  assert.equal(takeToken(bucket, 10_000, 10, 2), true);
  assert.equal(bucket.tokens, 1, 'never more than the burst');
});

test("an account's frame bucket is shared by its sockets and kept across reconnects until no socket holds it and it is full and idle", () => {
  const limits = new RateLimits(OPTIONS);
  const a = limits.messageBucket('acc', 0);
  for (let i = 0; i < 20; i++) assert.equal(limits.allowMessage(a, 0), true);
  assert.equal(limits.allowMessage(a, 0), false);
  const second = limits.messageBucket('acc', 10);
  assert.equal(second, a, 'a second socket of the account shares the drained bucket');
  assert.equal(limits.allowMessage(second, 10), false);
  assert.notEqual(limits.messageBucket('other', 10), a, 'another account has its own');
  limits.releaseMessageBucket(a);
  limits.releaseMessageBucket(a);
  assert.equal(limits.messageBucket('acc', 50), a, 'a reconnect gets the drained bucket back');
  limits.sweep(60_000);
  assert.equal(limits.size.messages, 2, 'held by an open socket: never forgotten, however idle');
  limits.releaseMessageBucket(a);
  limits.sweep(500);
  assert.equal(limits.messageBucket('acc', 500), a, 'not yet full: kept');
  limits.releaseMessageBucket(a);
  limits.sweep(2_011);
  assert.equal(limits.size.messages, 1, 'full (2 s after its last frame), idle and held by none: forgotten (the other account is still held)');
  const fresh = limits.messageBucket('acc', 2_011);
  for (let i = 0; i < 20; i++) assert.equal(limits.allowMessage(fresh, 2_011), true, 'a new bucket, full');
});

test('frame buckets: many accounts at once, each its own, slots reused once forgotten', () => {
  const limits = new RateLimits(OPTIONS);
  const slots = Array.from({ length: 300 }, (_, i) => limits.messageBucket(`acc-${i}`, 0));
  assert.equal(new Set(slots).size, 300);
  for (const slot of slots) for (let i = 0; i < 20; i++) assert.equal(limits.allowMessage(slot, 0), true);
  for (const slot of slots) assert.equal(limits.allowMessage(slot, 0), false, 'each drained on its own');
  for (const slot of slots) limits.releaseMessageBucket(slot);
  limits.sweep(10_000);
  assert.equal(limits.size.messages, 0);
  const again = limits.messageBucket('late', 10_000);
  assert.ok(slots.includes(again), 'a forgotten slot is reused');
  assert.equal(limits.allowMessage(again, 10_000), true, 'and starts full');
});

test('a flood cools the account down; enough floods from one address cool the address down', () => {
  const limits = new RateLimits(OPTIONS);
  limits.flooded('a', '10.0.0.1', 0);
  assert.equal(limits.cooldownLeft('a', '10.0.0.1', 0), 1000);
  assert.equal(limits.cooldownLeft('a', '10.0.0.9', 400), 600, 'the account, from any address');
  assert.equal(limits.cooldownLeft('b', '10.0.0.1', 400), 0, 'one strike does not lock the address out');
  limits.flooded('c', '10.0.0.1', 500);
  assert.equal(limits.cooldownLeft('b', '10.0.0.1', 600), 900, 'two strikes within a cool-down do');
  assert.equal(limits.cooldownLeft('b', '10.0.0.1', 1_500), 0);
  limits.sweep(1_500);
  assert.deepEqual(limits.size, { messages: 0, auth: 0, cooldowns: 0, addresses: 0 });
});

test('auth requests are limited per address', () => {
  const limits = new RateLimits(OPTIONS);
  assert.equal(limits.allowAuth('1.1.1.1', 0), true);
  assert.equal(limits.allowAuth('1.1.1.1', 0), true);
  assert.equal(limits.allowAuth('1.1.1.1', 0), false);
  assert.equal(limits.allowAuth('2.2.2.2', 0), true);
  assert.equal(limits.allowAuth('1.1.1.1', 1_000), true);
});

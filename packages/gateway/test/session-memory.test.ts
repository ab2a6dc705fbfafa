import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemorySessionStore } from '../src/session/index.js';
import { runSessionStoreContract } from './session-contract.js';

runSessionStoreContract('memory', async ({ ttlMs }) => {
  let clock = Date.now();
  const store = new MemorySessionStore({ ttlMs, now: () => clock });
  await store.start();
  return {
    store,
    advance: async (ms) => {
      clock += ms;
    },
  };
});

test('memory: options are validated with OPT_ERR_INVALID naming the option', () => {
  for (const bad of [{ ttlMs: 0 }, { ttlMs: 1.5 }, { sweepIntervalMs: -1 }, { sweepBatchSize: 0 }, { now: 5 as unknown as () => number }]) {
    const name = Object.keys(bad)[0] ?? '';
    assert.throws(() => new MemorySessionStore(bad), (err: { code?: string; message?: string }) => {
      return err.code === 'OPT_ERR_INVALID' && err.message?.includes(`"${name}"`) === true;
    });
  }
  assert.equal(new MemorySessionStore().ttlMs, 30 * 60_000);
});

test('memory: the sweep removes expired sessions, oldest first, in bounded batches', async () => {
  let clock = 1_000_000;
  const store = new MemorySessionStore({ ttlMs: 1000, sweepBatchSize: 2, now: () => clock });
  await store.start();
  try {
    const a = await store.create({ accountId: 'a', username: 'a', sceneId: 's' });
    clock += 100;
    await store.create({ accountId: 'b', username: 'b', sceneId: 's' });
    await store.create({ accountId: 'c', username: 'c', sceneId: 's' });
    clock += 500;
    assert.ok((await store.get(a.session.token)) !== null, 'a slides to the back');
    clock += 600; // b and c expired; a alive until 2600 past start
    assert.equal(store.sweep(), 2);
    assert.equal(store.size, 1);
    assert.equal(store.sweep(), 0);
    clock += 1000;
    assert.equal(store.sweep(), 1);
    assert.equal(store.size, 0);
  } finally {
    await store.close();
  }
});

test('memory: the sweep removes expired group assignments too, within the same batch limit', async () => {
  let clock = 1_000_000;
  const store = new MemorySessionStore({ ttlMs: 1000, sweepBatchSize: 2, now: () => clock });
  try {
    await store.create({ accountId: 'a', username: 'a', sceneId: 's' });
    for (const g of ['g1', 'g2', 'g3']) await store.assignGroupGateway(g, 'gw-a', null);
    clock += 500;
    assert.equal(await store.groupGateway('g1'), 'gw-a', 'g1 slides to the back');
    clock += 600; // the session, g2 and g3 expired; g1 alive until 2500 past start
    assert.equal(store.sweep(), 2);
    assert.equal(store.sweep(), 1);
    assert.equal(store.sweep(), 0);
    assert.equal(await store.groupGateway('g1'), 'gw-a');
    assert.equal(await store.groupGateway('g2'), null);
  } finally {
    await store.close();
  }
});

test('memory: works before start(), and start() is idempotent', async () => {
  const store = new MemorySessionStore();
  try {
    const { session } = await store.create({ accountId: 'x', username: 'x', sceneId: 's' });
    assert.ok((await store.get(session.token)) !== null);
    await store.start();
    await store.start();
  } finally {
    await store.close();
  }
});

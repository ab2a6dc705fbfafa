/**
 * Shared world data: a table written by its owning service only, read by every scene of every
 * engine from a local copy that catches up within the poll period, saved with the owner and
 * loaded again by a scene that starts later.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { ErrorCodes } from '@gos/schema';
import { SqliteStore, type SharedRow } from '@gos/store';
import { waitFor } from '@gos/testing';
import { Engine } from '../src/index.js';
import { FakeGateway, GAME, SECRET, startCluster } from './helpers.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gos-engine-shared-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

type Read = { ok: true; value: unknown; version: number; size: number } | { ok: false; code: string };

test('the owner writes, scenes on every engine read it soon after, in order; nobody else writes; a later scene loads it from the store', async () => {
  const c = await startCluster(dir, 'shared', { workers: 1, engine: { sharedPollMs: 50 } });
  const other = new Engine({ engineId: 'engine-u', clusterSecret: SECRET, gameModule: GAME, store: c.store, coordinator: c.coordinator, workers: 1, persistIntervalMs: 200, sharedPollMs: 50, workerLogLevel: 'silent' });
  await other.start();
  const gw2 = new FakeGateway(Number(other.address.split(':')[1]), 'gw-test-2');
  await gw2.start();
  try {
    await c.gw.join(1, 'ann');
    // The owner runs on the other engine.
    await c.coordinator.placement.assign('counter:board', 'engine-u');
    const call = async (message: string, payload: unknown): Promise<unknown> => (await c.gw.request(1, 'callScene', { to: 'counter:board', message, payload })).body;
    const read = async (gw: FakeGateway, connId: number, key: string, table = 'notices'): Promise<Read> => (await gw.request(connId, 'sharedGet', { table, key })).body as Read;

    assert.deepEqual(await read(c.gw, 1, 'boss'), { ok: true, value: null, version: 0, size: 0 });
    assert.deepEqual(await call('post', { key: 'boss', value: { hp: 100, at: 'world:2' } }), { ok: true, result: 1 });
    // Seen by a scene of another engine within the poll period.
    await waitFor(async () => {
      const r = await read(c.gw, 1, 'boss');
      return r.ok && r.version === 1;
    }, { timeoutMs: 5000, message: 'the write seen on the other engine' });
    assert.deepEqual(await read(c.gw, 1, 'boss'), { ok: true, value: { hp: 100, at: 'world:2' }, version: 1, size: 1 });

    // 50 writes in a row: a reader ends at the last, having applied them in order.
    for (let i = 1; i <= 50; i++) await call('post', { key: 'n', value: i });
    await waitFor(async () => {
      const r = await read(c.gw, 1, 'n');
      return r.ok && r.value === 50;
    }, { timeoutMs: 5000, message: 'the 50th write' });
    assert.deepEqual(await call('unpost', { key: 'boss' }), { ok: true, result: true });
    await waitFor(async () => {
      const r = await read(c.gw, 1, 'boss');
      return r.ok && r.value === null && r.size === 1;
    }, { timeoutMs: 5000, message: 'the deletion' });

    // Nobody but the owner writes; an undeclared table is refused.
    assert.deepEqual((await c.gw.request(1, 'sharedSet', { table: 'notices', key: 'x', value: 1 })).body, { ok: false, code: ErrorCodes.OPT_ERR_INVALID });
    assert.deepEqual(await read(c.gw, 1, 'x', 'nosuch'), { ok: false, code: ErrorCodes.OPT_ERR_INVALID });
    assert.deepEqual(await call('post', { key: '', value: 1 }), { ok: false, code: ErrorCodes.OPT_ERR_INVALID });

    // A scene that starts later, on the owner's engine, has it all from the start.
    await c.coordinator.placement.assign('arena:7', 'engine-u');
    await gw2.join(7, 'bo', 'arena:7');
    const late = await read(gw2, 7, 'n');
    assert.ok(late.ok && late.value === 50 && late.size === 1, JSON.stringify(late));
    // Saved with the owner: in the store.
    await waitFor(async () => (await c.store.loadShared('notices', 0, 100)).some((r) => r.key === 'n' && r.value === '50'), { timeoutMs: 5000, message: 'the rows saved' });
  } finally {
    await gw2.close();
    await other.close();
    await c.close();
  }
});

/** A store whose reads of shared tables take `slowMs` (as a loaded MySQL may). */
class SlowSharedStore extends SqliteStore {
  slowMs = 0;

  override async loadShared(table: string, afterVersion: number, limit: number): Promise<SharedRow[]> {
    if (this.slowMs > 0) await delay(this.slowMs);
    return super.loadShared(table, afterVersion, limit);
  }
}

test('a scene whose first read of a table takes longer than the poll period still gets every later write', async () => {
  // The engine's poll used to drop a table nobody had subscribed to yet while the first
  // subscriber was still reading it: that scene then joined a copy no poll kept current.
  const store = new SlowSharedStore({ file: join(dir, 'slow.db') });
  const c = await startCluster(dir, 'slow', { workers: 1, store, engine: { sharedPollMs: 20 } });
  const other = new Engine({ engineId: 'engine-u', clusterSecret: SECRET, gameModule: GAME, store, coordinator: c.coordinator, workers: 1, persistIntervalMs: 200, sharedPollMs: 20, workerLogLevel: 'silent' });
  await other.start();
  try {
    await c.coordinator.placement.assign('counter:board', 'engine-u');
    const call = async (message: string, payload: unknown): Promise<unknown> => (await c.gw.request(1, 'callScene', { to: 'counter:board', message, payload })).body;
    // arena:1 (on engine-t, the reader) starts while every read of the table takes 10 polls.
    store.slowMs = 200;
    await c.gw.join(1, 'ann');
    store.slowMs = 0;
    assert.deepEqual(await call('post', { key: 'late', value: 'seen' }), { ok: true, result: 1 });
    await waitFor(async () => {
      const r = (await c.gw.request(1, 'sharedGet', { table: 'notices', key: 'late' })).body as Read;
      return r.ok && r.value === 'seen';
    }, { timeoutMs: 5000, message: 'the write seen by the scene that subscribed slowly' });
  } finally {
    await other.close();
    await c.close();
  }
});

/** docs/shared-data.md: "Readers see a write within about a second" ("under 1 s on this box"). */
const SHARED_READ_BOUND_MS = 1000;

test('readers on another engine see each write within the documented bound, with the default poll and save intervals', async (t) => {
  // The documented defaults: sharedPollMs 250, persistIntervalMs 5000 (the owner saves early after a write).
  const c = await startCluster(dir, 'bound', { workers: 1, persistIntervalMs: 5000 });
  const other = new Engine({ engineId: 'engine-u', clusterSecret: SECRET, gameModule: GAME, store: c.store, coordinator: c.coordinator, workers: 1, workerLogLevel: 'silent' });
  await other.start();
  try {
    await c.coordinator.placement.assign('counter:board', 'engine-u');
    const call = async (message: string, payload?: unknown): Promise<{ ok: boolean; result?: unknown }> => (await c.gw.request(1, 'callScene', { to: 'counter:board', message, payload })).body as { ok: boolean; result?: unknown };
    const read = async (): Promise<Read> => (await c.gw.request(1, 'sharedGet', { table: 'notices', key: 'bound' })).body as Read;
    // The reader (arena:1 on engine-t) and the owner (counter:board on engine-u) both running.
    await c.gw.join(1, 'ann');
    assert.deepEqual(await read(), { ok: true, value: null, version: 0, size: 0 });
    assert.equal((await call('state')).ok, true);
    const seenAfterMs: number[] = [];
    for (let i = 1; i <= 6; i++) {
      // From before the write (the owner writes when it takes the call) to the reader's copy having it.
      const started = performance.now();
      const written = await call('post', { key: 'bound', value: i });
      assert.deepEqual(written, { ok: true, result: i });
      await waitFor(
        async () => {
          const r = await read();
          return r.ok && r.value === i && r.version === i;
        },
        { timeoutMs: Math.max(1, SHARED_READ_BOUND_MS - (performance.now() - started)), message: `write ${i} seen on the other engine within ${SHARED_READ_BOUND_MS} ms (earlier ones: ${seenAfterMs.join(', ')} ms)` },
      );
      seenAfterMs.push(Math.round(performance.now() - started));
    }
    assert.ok(Math.max(...seenAfterMs) < SHARED_READ_BOUND_MS, seenAfterMs.join(', '));
    t.diagnostic(`write → seen on the other engine: ${seenAfterMs.join(', ')} ms`);
  } finally {
    await other.close();
    await c.close();
  }
});

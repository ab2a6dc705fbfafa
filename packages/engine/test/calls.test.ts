/**
 * Calls and casts between scenes on one engine (scene.call, scene.cast): the target is placed and
 * started on demand, answers come back, casts arrive in order, and every way a call can fail is
 * a coded error for the caller while both scenes go on.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ErrorCodes } from '@gos/schema';
import { waitFor } from '@gos/testing';
import { Engine } from '../src/index.js';
import { GAME, SECRET, startCluster } from './helpers.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gos-engine-calls-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

type Cluster = Awaited<ReturnType<typeof startCluster>>;
type Outcome = { ok: true; result: unknown } | { ok: false; code: string };

async function call(c: Cluster, req: { to: string; message: string; payload?: unknown; timeoutMs?: number; place?: boolean }): Promise<Outcome> {
  return (await c.gw.request(1, 'callScene', req)).body as Outcome;
}

test('a call reaches a scene placed and started on demand, and its answer comes back; casts arrive in order', async () => {
  const c = await startCluster(dir, 'calls', { workers: 2 });
  try {
    await c.gw.join(1, 'ann');
    assert.deepEqual(await call(c, { to: 'arena:2', message: 'echo', payload: { n: 1 } }), { ok: true, result: { payload: { n: 1 }, from: 'arena:1', at: 'arena:2' } });
    assert.equal(c.coordinator.placement.lookup('arena:2')?.engineId, 'engine-t', 'placed on demand');
    // 300 casts, then a call on the same way: it comes after all of them.
    await c.gw.request(1, 'castScene', { to: 'arena:2', message: 'count', count: 300 });
    const seen = await call(c, { to: 'arena:2', message: 'castsSeen' });
    assert.deepEqual(seen, { ok: true, result: Array.from({ length: 300 }, (_, i) => i + 1) });
    // A scene can call itself too.
    assert.deepEqual(await call(c, { to: 'arena:1', message: 'echo', payload: 'me' }), { ok: true, result: { payload: 'me', from: 'arena:1', at: 'arena:1' } });
  } finally {
    await c.close();
  }
});

test('every failure of a call is a coded error for the caller, and both scenes go on', async () => {
  const c = await startCluster(dir, 'call-errors', { workers: 2 });
  try {
    await c.gw.join(1, 'bo');
    const code = async (req: Parameters<typeof call>[1]): Promise<string> => {
      const out = await call(c, req);
      assert.equal(out.ok, false, JSON.stringify(out));
      return (out as { code: string }).code;
    };
    assert.equal(await code({ to: 'arena:2', message: 'nosuch' }), ErrorCodes.ENG_ERR_NO_HANDLER);
    assert.equal(await code({ to: 'arena:2', message: 'refuse' }), 'GAME_ERR_NOPE');
    assert.equal(await code({ to: 'arena:2', message: 'silent', timeoutMs: 300 }), ErrorCodes.ENG_ERR_CALL_TIMEOUT);
    assert.equal(await code({ to: 'arena:9', message: 'echo', place: false }), ErrorCodes.ENG_ERR_NOT_PLACED);
    assert.equal(c.coordinator.placement.lookup('arena:9'), undefined, 'not placed by a call that says not to');
    assert.equal(await code({ to: 'nosuchtype:1', message: 'echo' }), ErrorCodes.ENG_ERR_SCENE_TYPE_UNKNOWN);
    assert.equal(await code({ to: '', message: 'echo' }), ErrorCodes.OPT_ERR_INVALID);
    assert.equal(await code({ to: 'arena:2', message: 'echo', timeoutMs: -1 }), ErrorCodes.OPT_ERR_INVALID);
    // Placed on an engine that is no member (it left a moment ago): retryable.
    await c.coordinator.placement.assign('arena:7', 'engine-elsewhere');
    assert.equal(await code({ to: 'arena:7', message: 'echo' }), ErrorCodes.LNK_ERR_NOT_CONNECTED);
    // Only the scene's own handlers answer; an answer JSON cannot hold is refused, and the target's thread lives.
    assert.equal(await code({ to: 'arena:2', message: 'constructor' }), ErrorCodes.ENG_ERR_NO_HANDLER);
    assert.equal(await code({ to: 'arena:2', message: 'bigint' }), ErrorCodes.SCH_ERR_BAD_PAYLOAD);
    assert.equal(await code({ to: 'arena:2', message: 'echo', place: 'no' as unknown as boolean }), ErrorCodes.OPT_ERR_INVALID);
    // Both go on.
    assert.deepEqual(await call(c, { to: 'arena:2', message: 'echo', payload: 2 }), { ok: true, result: { payload: 2, from: 'arena:1', at: 'arena:2' } });
  } finally {
    await c.close();
  }
});

test('calls and casts across engines: over the engines\' link, in order, with every failure coded; a lost engine answers its calls at once', async () => {
  const c = await startCluster(dir, 'calls-across', { workers: 1 });
  // A second engine on the same coordinator and store.
  const other = new Engine({
    engineId: 'engine-u',
    clusterSecret: SECRET,
    gameModule: GAME,
    store: c.store,
    coordinator: c.coordinator,
    workers: 1,
    persistIntervalMs: 200,
    workerLogLevel: 'silent',
  });
  await other.start();
  let otherClosed = false;
  try {
    await c.gw.join(1, 'cat');
    await c.coordinator.placement.assign('arena:5', 'engine-u');
    assert.deepEqual(await call(c, { to: 'arena:5', message: 'echo', payload: [1, 'x'] }), { ok: true, result: { payload: [1, 'x'], from: 'arena:1', at: 'arena:5' } });
    await c.gw.request(1, 'castScene', { to: 'arena:5', message: 'count', count: 200 });
    assert.deepEqual(await call(c, { to: 'arena:5', message: 'castsSeen' }), { ok: true, result: Array.from({ length: 200 }, (_, i) => i + 1) });
    const code = async (req: Parameters<typeof call>[1]): Promise<string> => ((await call(c, req)) as { code: string }).code;
    assert.equal(await code({ to: 'arena:5', message: 'refuse' }), 'GAME_ERR_NOPE');
    assert.equal(await code({ to: 'arena:5', message: 'nosuch' }), ErrorCodes.ENG_ERR_NO_HANDLER);
    assert.equal(await code({ to: 'arena:5', message: 'silent', timeoutMs: 300 }), ErrorCodes.ENG_ERR_CALL_TIMEOUT);
    // The other engine goes: a call waiting on it is answered when its link drops, not at its timeout.
    const started = performance.now();
    const pending = call(c, { to: 'arena:5', message: 'silent', timeoutMs: 20_000 });
    // Answered only once the silent call is in arena:5's queue: calls from one scene to another keep their order.
    assert.equal((await call(c, { to: 'arena:5', message: 'echo', payload: 0 })).ok, true);
    await other.close();
    otherClosed = true;
    assert.equal(((await pending) as { code: string }).code, ErrorCodes.LNK_ERR_CLOSED);
    assert.ok(performance.now() - started < 10_000, 'answered when the link dropped');
  } finally {
    if (!otherClosed) await other.close();
    await c.close();
  }
});

test('a call whose target scene crashes is answered at once (retryable), and nothing is left waiting', async () => {
  // One scene a worker: the target's crash does not take the caller's thread with it.
  const c = await startCluster(dir, 'call-crash', { workers: 2, scenesPerWorker: 1 });
  try {
    await c.gw.join(1, 'dee');
    const started = performance.now();
    assert.deepEqual(await call(c, { to: 'arena:2', message: 'crashSoon', timeoutMs: 20_000 }), { ok: false, code: ErrorCodes.ENG_ERR_SCENE_MOVED });
    assert.ok(performance.now() - started < 10_000, 'not at its timeout');
    // The restarted target answers again.
    await waitFor(async () => (await call(c, { to: 'arena:2', message: 'echo', payload: 3 })).ok || undefined, { timeoutMs: 10_000, message: 'arena:2 back' });
    assert.deepEqual(c.engine.callsPending, { waiting: 0, queues: 0, pushes: 0 });
  } finally {
    await c.close();
  }
});

test('deliveries waiting for a target to start are bounded: past 1024, calls are refused with ENG_ERR_QUEUE_FULL', async () => {
  const c = await startCluster(dir, 'call-queue', { workers: 2 });
  try {
    await c.gw.join(1, 'eli');
    // 1024 casts wait while slowstart:1 starts; the next call does not fit.
    await c.gw.request(1, 'castScene', { to: 'slowstart:1', message: 'count', count: 1024 });
    assert.deepEqual(await call(c, { to: 'slowstart:1', message: 'echo' }), { ok: false, code: ErrorCodes.ENG_ERR_QUEUE_FULL });
    // Once started, it got all 1024 in order, and answers again.
    const seen = await waitFor(
      async () => {
        const out = await call(c, { to: 'slowstart:1', message: 'castsSeen' });
        return out.ok ? out : undefined;
      },
      { timeoutMs: 10_000, message: 'slowstart:1 to answer' },
    );
    assert.deepEqual(seen, { ok: true, result: Array.from({ length: 1024 }, (_, i) => i + 1) });
    assert.deepEqual(c.engine.callsPending, { waiting: 0, queues: 0, pushes: 0 });
  } finally {
    await c.close();
  }
});

test("messages the protocol's rpc section declares travel as their message, checked by its codec on both sides, on one engine and across engines", async () => {
  const c = await startCluster(dir, 'calls-typed', { workers: 1 });
  const other = new Engine({ engineId: 'engine-u', clusterSecret: SECRET, gameModule: GAME, store: c.store, coordinator: c.coordinator, workers: 1, persistIntervalMs: 200, workerLogLevel: 'silent' });
  await other.start();
  try {
    await c.gw.join(1, 'fox');
    await c.coordinator.placement.assign('arena:5', 'engine-u');
    for (const to of ['arena:2', 'arena:5']) {
      assert.deepEqual(await call(c, { to, message: 'double', payload: { n: 21 } }), { ok: true, result: { n: 42 } }, to);
      // Not a Num: refused by the caller's codec before it leaves.
      assert.deepEqual(await call(c, { to, message: 'double', payload: { n: 'x' } }), { ok: false, code: ErrorCodes.OPT_ERR_INVALID }, to);
      // The target answers something that is not a Num: its codec refuses the answer.
      assert.deepEqual(await call(c, { to, message: 'doubleBad', payload: { n: 1 } }), { ok: false, code: ErrorCodes.SCH_ERR_BAD_PAYLOAD }, to);
      // A declared cast cannot be called, nor a declared call cast.
      assert.deepEqual(await call(c, { to, message: 'note', payload: { n: 1 } }), { ok: false, code: ErrorCodes.OPT_ERR_INVALID }, to);
      const refused = await c.gw.request(1, 'castScene', { to, message: 'double', count: 1, wrap: true });
      assert.equal((refused.body as { code: string }).code, ErrorCodes.OPT_ERR_INVALID, to);
      // Declared casts arrive, in order.
      await c.gw.request(1, 'castScene', { to, message: 'note', count: 5, wrap: true });
      assert.deepEqual(await call(c, { to, message: 'castsSeen' }), { ok: true, result: [1, 2, 3, 4, 5] }, to);
    }
  } finally {
    await other.close();
    await c.close();
  }
});

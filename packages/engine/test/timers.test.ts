/**
 * Durable timers (scene.schedule / service.schedule): fired through onTimer with their payload
 * and a stable id, cancelled and rescheduled by name, saved with the owner's state, fired again
 * after a crash that came before their effects were saved (and only then), and woken on an
 * engine where the owner runs nowhere. (The store's contract test covers their fencing.)
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ErrorCodes } from '@gos/schema';
import { EngineToGateway, GatewayToEngine, decodeJoinedBody, encodeJoinBody, encodeTravelOutBody } from '@gos/link';
import { waitFor } from '@gos/testing';
import { Engine } from '../src/index.js';
import { FakeGateway, GAME, SECRET, startCluster } from './helpers.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gos-engine-timers-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

type Fired = Array<{ name: string; id: string; payload: unknown }>;
type Scheduled = { ok: true; id: string; dueAt: number } | { ok: false; code: string };

async function schedule(gw: FakeGateway, req: { name: string; delayMs?: number; at?: number; payload?: unknown }, connId = 1): Promise<Scheduled> {
  return (await gw.request(connId, 'schedule', req)).body as Scheduled;
}

async function fired(gw: FakeGateway, connId = 1): Promise<Fired> {
  return (await gw.request(connId, 'fired', {})).body as Fired;
}

test('a timer fires once with its payload and id; cancelled or rescheduled by name; its removal is saved with the state', async () => {
  const c = await startCluster(dir, 'timers-basic', { workers: 1 });
  try {
    await c.gw.join(1, 'ann');
    const a = await schedule(c.gw, { name: 'a', delayMs: 100, payload: { hp: 3 } });
    assert.equal(a.ok, true);
    // Rescheduled: the new one replaces the first (its id and payload).
    const b1 = await schedule(c.gw, { name: 'b', delayMs: 60_000, payload: 1 });
    const b2 = await schedule(c.gw, { name: 'b', delayMs: 150, payload: 2 });
    assert.ok(b1.ok && b2.ok && b1.id !== b2.id);
    await schedule(c.gw, { name: 'gone', delayMs: 200 });
    assert.deepEqual((await c.gw.request(1, 'cancelTimer', { name: 'gone' })).body, { cancelled: true, pending: false });
    assert.deepEqual((await c.gw.request(1, 'cancelTimer', { name: 'gone' })).body, { cancelled: false, pending: false });
    const list = await waitFor(async () => ((await fired(c.gw)).length === 2 ? fired(c.gw) : undefined), { timeoutMs: 5000, message: 'two firings' });
    assert.deepEqual(list, [
      { name: 'a', id: (a as { id: string }).id, payload: { hp: 3 } },
      { name: 'b', id: (b2 as { id: string }).id, payload: 2 },
    ]);
    // Saved with the state: no timer left in the store, and the firings in the state.
    await waitFor(async () => (await c.store.loadTimers('arena:1')).length === 0 && JSON.stringify((await c.store.loadScene('arena:1'))?.data).includes('"name":"b"'), {
      timeoutMs: 5000,
      message: 'the firings saved',
    });
    // A timer due long from now is in the store once saved, with its id.
    const later = await schedule(c.gw, { name: 'later', at: Date.now() + 3_600_000, payload: 'x' });
    await waitFor(async () => (await c.store.loadTimers('arena:1')).some((t) => t.name === 'later' && t.id === (later as { id: string }).id), { timeoutMs: 5000, message: 'the pending timer saved' });
    // Bad input is OPT_ERR_INVALID, and the scene goes on.
    for (const req of [{ name: '', delayMs: 1 }, { name: 'x', delayMs: -1 }, { name: 'x', at: -5 }, { name: 'x'.repeat(256), delayMs: 1 }, { name: 'big', delayMs: 1, payload: 'y'.repeat(70_000) }]) {
      assert.deepEqual(await schedule(c.gw, req), { ok: false, code: ErrorCodes.OPT_ERR_INVALID }, JSON.stringify(req).slice(0, 60));
    }
    assert.equal((await fired(c.gw)).length, 2);
  } finally {
    await c.close();
  }
});

test('a crash after a firing and before its save fires it again with the same id, and its effect is kept once', async () => {
  // One scene a worker: the crash takes only this scene.
  const c = await startCluster(dir, 'timers-crash', { workers: 2, scenesPerWorker: 1, persistIntervalMs: 300 });
  const marker = join(dir, 'crashed-once');
  try {
    await c.gw.join(1, 'bo');
    const t = await schedule(c.gw, { name: 'boom', delayMs: 1500, payload: { crashOnce: marker } });
    assert.ok(t.ok);
    // Saved pending (periodic save) well before it is due.
    await waitFor(async () => (await c.store.loadTimers('arena:1')).length === 1, { timeoutMs: 5000, message: 'the timer saved' });
    // It fires; the scene crashes at once, before the firing is saved, and restarts from its
    // last save, where the timer is still pending: it fires again, with the same id.
    const list = await waitFor(
      async () => {
        const out = await c.gw.request(1, 'fired', {}).catch(() => undefined);
        const f = out?.body as Fired | undefined;
        return Array.isArray(f) && f.length > 0 ? f : undefined;
      },
      { timeoutMs: 15_000, message: 'the timer fired after the restart' },
    );
    assert.deepEqual(list, [{ name: 'boom', id: t.id, payload: { crashOnce: marker } }], 'once in effect: the first firing was lost with the crash');
    assert.equal(readFileSync(marker, 'utf8'), t.id, 'the first firing carried the same id');
    // Saved now: fired once, nothing pending.
    await waitFor(async () => (await c.store.loadTimers('arena:1')).length === 0, { timeoutMs: 5000, message: 'the second firing saved' });
  } finally {
    await c.close();
  }
});

test('a timer of a scene that runs nowhere starts it: after the engine that had it closed, another engine fires it', async () => {
  const c = await startCluster(dir, 'timers-wake', { workers: 1 });
  await c.gw.join(1, 'cy');
  const t = await schedule(c.gw, { name: 'wake', delayMs: 2500, payload: 'later' });
  assert.ok(t.ok);
  // The engine closes before it is due (saving the scene with its timer) and leaves.
  await c.gw.close();
  await c.engine.close();
  assert.deepEqual((await c.store.loadTimers('arena:1')).map((x) => x.id), [t.id]);
  const next = new Engine({ engineId: 'engine-w', clusterSecret: SECRET, gameModule: GAME, store: c.store, coordinator: c.coordinator, workers: 1, persistIntervalMs: 200, workerLogLevel: 'silent', timerScanIntervalMs: 100 });
  await next.start();
  try {
    // Nobody joins arena:1: the new engine wakes it for its timer, which fires and is saved.
    const saved = await waitFor(
      async () => {
        const data = (await c.store.loadScene('arena:1'))?.data as { fired?: Fired } | undefined;
        return data?.fired !== undefined && data.fired.length > 0 && (await c.store.loadTimers('arena:1')).length === 0 ? data.fired : undefined;
      },
      { timeoutMs: 15_000, message: 'the timer fired on the other engine and saved' },
    );
    assert.deepEqual(saved, [{ name: 'wake', id: t.id, payload: 'later' }]);
    assert.equal(c.coordinator.placement.lookup('arena:1')?.engineId, 'engine-w');
  } finally {
    await next.close();
    await c.leader.close();
    await c.store.close();
    await c.coordinator.close();
  }
});

test("a service's timer is handled in turn with its messages", async () => {
  const c = await startCluster(dir, 'timers-service', { workers: 1 });
  try {
    await c.gw.join(1, 'dee');
    const call = async (message: string, payload?: unknown): Promise<unknown> => (await c.gw.request(1, 'callScene', { to: 'counter:1', message, payload })).body;
    // Due in 300 ms, but a slow call (sent at once) holds the service for 1.5 s: the timer waits its turn.
    assert.deepEqual(await call('remind', { name: 't1', delayMs: 300 }), { ok: true, result: null });
    assert.deepEqual(await call('slowAppend', { item: 'slow', ms: 1500 }), { ok: true, result: 3 });
    const state = await waitFor(
      async () => {
        const out = (await call('state')) as { ok: boolean; result: { log: string[] } };
        return out.result.log.includes('timer t1') ? out.result : undefined;
      },
      { timeoutMs: 5000, message: 'the service timer' },
    );
    assert.deepEqual(state.log, ['started', 'start slow', 'end slow', 'timer t1']);
  } finally {
    await c.close();
  }
});

test("a player's timers fire in the scene it is in, go with it on a travel, and wait for it while it is offline", async () => {
  const c = await startCluster(dir, 'timers-player', { workers: 1 });
  try {
    await c.coordinator.placement.ensure('arena:2');
    await c.gw.join(1, 'eve');
    const fired = async (connId: number): Promise<Array<{ name: string; scene: string }>> => (await c.gw.request(connId, 'playerFired', {})).body as Array<{ name: string; scene: string }>;
    // In its scene.
    await c.gw.request(1, 'playerSchedule', { name: 'a', delayMs: 100, payload: 1 });
    await waitFor(async () => (await fired(1)).length === 1, { timeoutMs: 5000, message: 'a' });
    assert.deepEqual((await fired(1))[0], { name: 'a', scene: 'arena:1', payload: 1 });
    // Scheduled in arena:1, due after a travel to arena:2 (same engine): it fires there.
    await c.gw.request(1, 'playerSchedule', { name: 'b', delayMs: 600, payload: 2 });
    // The gateway's part of a local travel: TRAVEL from the scene, TRAVEL_OUT (local) back, JOINED.
    await c.gw.request(1, 'travel', { to: 'arena:2' });
    await c.gw.waitFor((m) => m.type === EngineToGateway.TRAVEL && m.channel === 1);
    c.gw.link.send(GatewayToEngine.TRAVEL_OUT, 1, encodeTravelOutBody({ to: 'arena:2', arrival: '', local: true }));
    await c.gw.waitFor((m) => m.type === EngineToGateway.JOINED && m.channel === 1);
    await waitFor(async () => (await fired(1)).length === 2, { timeoutMs: 5000, message: 'b, in arena:2' });
    assert.deepEqual((await fired(1))[1], { name: 'b', scene: 'arena:2', payload: 2 });
    // Offline when it is due: it waits in the store, and fires at once when the player is back.
    await c.gw.request(1, 'playerSchedule', { name: 'c', delayMs: 300, payload: 3 });
    c.gw.leave(1);
    await waitFor(async () => (await c.store.loadTimers('@eve')).some((t) => t.name === 'c'), { timeoutMs: 5000, message: 'c saved with the player' });
    await waitFor(async () => (await c.store.loadTimers('@eve')).every((t) => t.dueAt < Date.now()), { timeoutMs: 5000, message: 'c overdue' });
    await c.gw.join(2, 'eve');
    await waitFor(async () => (await fired(2)).length === 3, { timeoutMs: 5000, message: 'c, after the rejoin' });
    assert.deepEqual((await fired(2))[2], { name: 'c', scene: 'arena:1', payload: 3 });
    await waitFor(async () => (await c.store.loadTimers('@eve')).length === 0, { timeoutMs: 5000, message: 'no timer left' });
  } finally {
    await c.close();
  }
});

test("a player's timers go with it on a travel to another engine, through the store: one due during the move fires on arrival, a later one on time, both in the target", async () => {
  const c = await startCluster(dir, 'timers-player-remote', { workers: 1 });
  const other = new Engine({ engineId: 'engine-u', clusterSecret: SECRET, gameModule: GAME, store: c.store, coordinator: c.coordinator, workers: 1, persistIntervalMs: 200, workerLogLevel: 'silent' });
  await other.start();
  const gw2 = new FakeGateway(Number(other.address.split(':')[1]), 'gw-test-2');
  await gw2.start();
  try {
    await c.coordinator.placement.assign('arena:5', 'engine-u');
    // The target runs already (zed plays there): the move takes no scene start.
    await gw2.join(9, 'zed', 'arena:5');
    await c.gw.join(1, 'fay');
    const firedOn = async (gw: FakeGateway, connId: number): Promise<Array<{ name: string; scene: string; payload: unknown }>> =>
      (await gw.request(connId, 'playerFired', {})).body as Array<{ name: string; scene: string; payload: unknown }>;
    const scheduledAt = Date.now();
    const during = (await c.gw.request(1, 'playerSchedule', { name: 'during', delayMs: 1500, payload: 'd' })).body as { id: string };
    const later = (await c.gw.request(1, 'playerSchedule', { name: 'later', delayMs: 4000, payload: 'l' })).body as { id: string };
    // The gateway's part of a travel to another engine: reserve, release (the row and the timers written), load.
    await c.gw.request(1, 'travel', { to: 'arena:5' });
    await c.gw.waitFor((m) => m.type === EngineToGateway.TRAVEL && m.channel === 1);
    gw2.link.send(GatewayToEngine.JOIN, 1, encodeJoinBody({ playerId: 'fay', name: 'fay', sceneId: 'arena:5', arrival: '', reserve: true, from: 'arena:1' }));
    await gw2.waitFor((m) => m.type === EngineToGateway.TRAVEL_READY && m.channel === 1);
    c.gw.link.send(GatewayToEngine.TRAVEL_OUT, 1, encodeTravelOutBody({ to: 'arena:5', arrival: '', local: false }));
    await c.gw.waitFor((m) => m.type === EngineToGateway.TRAVEL_RELEASED && m.channel === 1);
    // Released: both timers are in the store with the player's row, pending, with their ids.
    const stored = (await c.store.loadTimers('@fay')).map((t) => ({ name: t.name, id: t.id })).sort((a, b) => a.name.localeCompare(b.name));
    assert.deepEqual(stored, [
      { name: 'during', id: during.id },
      { name: 'later', id: later.id },
    ]);
    assert.ok(Date.now() - scheduledAt < 1500, 'released before `during` was due (the test needs it pending in the store)');
    // `during` comes due while the player is between the two engines…
    await waitFor(() => Date.now() > scheduledAt + 1600, { timeoutMs: 5000, message: '`during` overdue' });
    gw2.link.send(GatewayToEngine.TRAVEL_IN, 1, new Uint8Array(0));
    assert.equal(decodeJoinedBody((await gw2.waitFor((m) => m.type === EngineToGateway.JOINED && m.channel === 1)).body).sceneId, 'arena:5');
    // …and fires as soon as it is in the target; `later` fires there on its time. Neither fired in the source.
    await waitFor(async () => (await firedOn(gw2, 1)).length >= 1, { timeoutMs: 5000, message: '`during`, on arrival' });
    assert.deepEqual(await firedOn(gw2, 1), [{ name: 'during', scene: 'arena:5', payload: 'd' }]);
    await waitFor(async () => (await firedOn(gw2, 1)).length >= 2, { timeoutMs: 8000, message: '`later`, in arena:5' });
    assert.deepEqual(await firedOn(gw2, 1), [
      { name: 'during', scene: 'arena:5', payload: 'd' },
      { name: 'later', scene: 'arena:5', payload: 'l' },
    ]);
    // The firings are saved by the target's engine: nothing pending in the store.
    await waitFor(async () => (await c.store.loadTimers('@fay')).length === 0, { timeoutMs: 5000, message: 'the firings saved by engine-u' });
    assert.equal(c.engine.stats.players, 0, 'fay left engine-t');
  } finally {
    await gw2.close();
    await other.close();
    await c.close();
  }
});

/**
 * Scene travel, the engine's half, driven by a fake gateway over a real link: a scene's
 * `player.travel()` asks (TRAVEL), a local move (TRAVEL_OUT local) hands the hot data over in
 * memory, a move to another engine is a reserved seat (JOIN reserve → TRAVEL_READY), a release
 * that writes the row with the target as the player's scene (TRAVEL_OUT → TRAVEL_RELEASED) and a
 * load (TRAVEL_IN → JOINED). Refusals leave the player where it was and reject its `travel()`.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CORE_PUSH, ErrorCodes, FrameKind, SceneChangedCodec, framePayload, readFrameHeader } from '@gos/schema';
import {
  EngineToGateway,
  GatewayToEngine,
  decodeJoinFailedBody,
  decodeJoinedBody,
  decodeTravelBody,
  encodeJoinBody,
  encodeJoinFailedBody,
  encodeTravelOutBody,
} from '@gos/link';
import { waitFor } from '@gos/testing';
import { Engine } from '../src/index.js';
import { FakeGateway, GAME, SECRET, startCluster } from './helpers.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gos-engine-travel-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** What the helpers below use of a cluster: its fake gateway (the one linked to the player's engine). */
type Cluster = { readonly gw: FakeGateway };

async function state(c: Cluster, connId: number): Promise<{ total: number; sceneId: string; arrival: unknown }> {
  const answer = await c.gw.request(connId, 'where', {});
  assert.equal(answer.kind, FrameKind.RESPONSE, JSON.stringify(answer.body));
  return answer.body as { total: number; sceneId: string; arrival: unknown };
}

async function outcome(c: Cluster, connId: number, expected: string): Promise<void> {
  await waitFor(async () => ((await c.gw.request(connId, 'travelOutcome', {})).body as { outcome: string }).outcome === expected, {
    timeoutMs: 5000,
    message: `the travel outcome ${expected}`,
  });
}

/** The SceneChanged push the engine sent the client of `connId` (taken out of the inbox). */
async function sceneChanged(c: Cluster, connId: number): Promise<unknown> {
  const m = await c.gw.waitFor((x) => x.type === EngineToGateway.TO_CLIENT && x.channel === connId && readFrameHeader(x.body)?.opcode === CORE_PUSH.SceneChanged);
  return SceneChangedCodec.decode(framePayload(m.body));
}

/** Ask the scene to move the player of `connId`; returns the TRAVEL message it sends the gateway. */
async function askTravel(c: Cluster, connId: number, to: string, arrival?: unknown): Promise<{ to: string; arrival: string }> {
  const answer = await c.gw.request(connId, 'travel', { to, arrival });
  assert.equal(answer.kind, FrameKind.RESPONSE);
  const m = await c.gw.waitFor((x) => x.type === EngineToGateway.TRAVEL && x.channel === connId);
  return decodeTravelBody(m.body);
}

test('a local travel hands the hot data to the target scene in memory, with the arrival; frames sent meanwhile reach the target', async () => {
  // One worker: both scenes on one thread, so the outcome map the handlers keep is shared.
  const c = await startCluster(dir, 'local', { workers: 1 });
  try {
    await c.gw.join(1, 'alice');
    assert.equal((await c.gw.request(1, 'add', { n: 5 })).kind, FrameKind.RESPONSE);
    const asked = await askTravel(c, 1, 'arena:2', { x: 7 });
    assert.deepEqual(asked, { to: 'arena:2', arrival: '{"x":7}' });
    await c.coordinator.placement.ensure('arena:2');
    c.gw.link.send(GatewayToEngine.TRAVEL_OUT, 1, encodeTravelOutBody({ to: asked.to, arrival: asked.arrival, local: true }));
    // A frame the gateway lets through during the move waits for the target.
    c.gw.send(1, 'add', { n: 2 });
    const joined = await c.gw.waitFor((m) => m.type === EngineToGateway.JOINED && m.channel === 1);
    assert.equal(decodeJoinedBody(joined.body).sceneId, 'arena:2');
    assert.deepEqual(await sceneChanged(c, 1), { from: 'arena:1', to: 'arena:2' });
    const s = await state(c, 1);
    assert.equal(s.sceneId, 'arena:2');
    assert.equal(s.total, 7, 'the data the source had (5), then the frame sent during the move (+2), once');
    assert.deepEqual(s.arrival, { x: 7 });
    await outcome(c, 1, 'ok');
    // The engine still counts one player, and a later leave saves it in arena:2.
    assert.equal(c.engine.stats.players, 1);
    c.gw.leave(1);
    await waitFor(async () => (await c.store.playerScene('alice')) === 'arena:2', { timeoutMs: 5000, message: 'the row to name arena:2' });
    assert.deepEqual((await c.store.loadPlayer('alice'))?.data, { total: 7 });
  } finally {
    await c.close();
  }
});

test("a local travel whose JOIN the target's ring refuses places the player again, with no SceneChanged and its data kept", async () => {
  // A ring of 4 KiB takes records of at most 2 KiB: a JOIN carrying a 3,000-character arrival does not fit.
  const c = await startCluster(dir, 'local-too-large', { workers: 1, engine: { ringBytes: 4096 } });
  try {
    await c.gw.join(1, 'ivan');
    assert.equal((await c.gw.request(1, 'add', { n: 5 })).kind, FrameKind.RESPONSE);
    const asked = await askTravel(c, 1, 'arena:2');
    await c.coordinator.placement.ensure('arena:2');
    c.gw.link.send(GatewayToEngine.TRAVEL_OUT, 1, encodeTravelOutBody({ to: asked.to, arrival: JSON.stringify({ pad: 'p'.repeat(3000) }), local: true }));
    const failed = await c.gw.waitFor((m) => m.type === EngineToGateway.JOIN_FAILED && m.channel === 1);
    assert.equal(decodeJoinFailedBody(failed.body).code, ErrorCodes.ENG_ERR_SCENE_MOVED);
    const told = c.gw.inbox.filter((m) => m.type === EngineToGateway.TO_CLIENT && m.channel === 1 && readFrameHeader(m.body)?.opcode === CORE_PUSH.SceneChanged);
    assert.equal(told.length, 0, 'no SceneChanged for a scene the player never entered');
    assert.equal(c.gw.inbox.filter((m) => m.type === EngineToGateway.JOINED && m.channel === 1).length, 0, 'no JOINED in the target');
    // Placed again (as the gateway does after JOIN_FAILED): the data the source handed over was kept.
    await c.gw.join(2, 'ivan');
    assert.equal((await state(c, 2)).total, 5);
  } finally {
    await c.close();
  }
});

test('a travel to another engine: reserved seat, release with the row saved in the target, then the load', async () => {
  // One engine plays both halves: connection 1 is the source, connection 2 the reserved target.
  const c = await startCluster(dir, 'remote', { workers: 1 });
  try {
    await c.gw.join(1, 'bob');
    await c.gw.request(1, 'add', { n: 3 });
    const asked = await askTravel(c, 1, 'arena:3', [1, 2]);
    await c.coordinator.placement.ensure('arena:3');
    c.gw.link.send(GatewayToEngine.JOIN, 2, encodeJoinBody({ playerId: 'bob', name: 'bob', sceneId: 'arena:3', arrival: asked.arrival, reserve: true, from: 'arena:1' }));
    await c.gw.waitFor((m) => m.type === EngineToGateway.TRAVEL_READY && m.channel === 2);
    c.gw.link.send(GatewayToEngine.TRAVEL_OUT, 1, encodeTravelOutBody({ to: 'arena:3', arrival: '', local: false }));
    await c.gw.waitFor((m) => m.type === EngineToGateway.TRAVEL_RELEASED && m.channel === 1);
    // Released means written: the row names the target, with the source's last data.
    assert.equal(await c.store.playerScene('bob'), 'arena:3');
    assert.deepEqual((await c.store.loadPlayer('bob'))?.data, { total: 3 });
    c.gw.link.send(GatewayToEngine.TRAVEL_IN, 2, new Uint8Array(0));
    const joined = await c.gw.waitFor((m) => m.type === EngineToGateway.JOINED && m.channel === 2);
    assert.equal(decodeJoinedBody(joined.body).sceneId, 'arena:3');
    assert.deepEqual(await sceneChanged(c, 2), { from: 'arena:1', to: 'arena:3' });
    const s = await state(c, 2);
    assert.deepEqual([s.sceneId, s.total, s.arrival], ['arena:3', 3, [1, 2]]);
    // The source connection is gone: its frames are refused, not applied.
    const stale = await c.gw.request(1, 'add', { n: 1 });
    assert.equal(stale.kind, FrameKind.ERROR);
    assert.equal(c.engine.stats.players, 1);
  } finally {
    await c.close();
  }
});

test('refusals leave the player where it was: a cancel, a target past the scene slots, bad targets', async () => {
  const c = await startCluster(dir, 'refused', { workers: 1, scenesPerWorker: 1 });
  try {
    await c.gw.join(1, 'cy');
    await c.gw.request(1, 'add', { n: 1 });
    // The gateway gives up (say the target's engine was lost): the scene's travel() rejects.
    await askTravel(c, 1, 'arena:9');
    c.gw.link.send(GatewayToEngine.TRAVEL_CANCEL, 1, encodeJoinFailedBody({ code: ErrorCodes.GW_ERR_NO_ENGINE, message: 'lost' }));
    await outcome(c, 1, ErrorCodes.GW_ERR_NO_ENGINE);
    // A local target that cannot start: one scene slot, taken by arena:1.
    await askTravel(c, 1, 'arena:9');
    await c.coordinator.placement.ensure('arena:9');
    c.gw.link.send(GatewayToEngine.TRAVEL_OUT, 1, encodeTravelOutBody({ to: 'arena:9', arrival: '', local: true }));
    const failed = await c.gw.waitFor((m) => m.type === EngineToGateway.TRAVEL_FAILED && m.channel === 1);
    assert.equal(decodeJoinFailedBody(failed.body).code, ErrorCodes.ENG_ERR_FULL);
    await outcome(c, 1, ErrorCodes.ENG_ERR_FULL);
    // A reserved seat refused the same way, as the target engine of a remote travel would.
    c.gw.link.send(GatewayToEngine.JOIN, 2, encodeJoinBody({ playerId: 'cy', name: 'cy', sceneId: 'arena:9', reserve: true }));
    const refused = await c.gw.waitFor((m) => m.type === EngineToGateway.JOIN_FAILED && m.channel === 2);
    assert.equal(decodeJoinFailedBody(refused.body).code, ErrorCodes.ENG_ERR_FULL);
    // The scene refuses nonsense itself: no message reaches the gateway.
    for (const to of ['', 'arena:1']) {
      await c.gw.request(1, 'travel', { to });
      await outcome(c, 1, ErrorCodes.ENG_ERR_TRAVEL);
    }
    assert.equal(c.gw.inbox.filter((m) => m.type === EngineToGateway.TRAVEL).length, 0);
    const s = await state(c, 1);
    assert.deepEqual([s.sceneId, s.total], ['arena:1', 1]);
  } finally {
    await c.close();
  }
});

test('a scene cap (maxPlayers): logins, travels and reservations past it are refused with ENG_ERR_FULL; a takeover is not', async () => {
  const c = await startCluster(dir, 'cap', { workers: 1 });
  try {
    await c.coordinator.placement.ensure('pair:1');
    await c.gw.join(1, 'p1', 'pair:1');
    await c.gw.join(2, 'p2', 'pair:1');
    c.gw.link.send(GatewayToEngine.JOIN, 3, encodeJoinBody({ playerId: 'p3', name: 'p3', sceneId: 'pair:1' }));
    const refused = await c.gw.waitFor((m) => m.type === EngineToGateway.JOIN_FAILED && m.channel === 3);
    assert.equal(decodeJoinFailedBody(refused.body).code, ErrorCodes.ENG_ERR_FULL);
    // A travel into it: refused before the player leaves its scene.
    await c.gw.join(4, 'p4');
    await askTravel(c, 4, 'pair:1');
    c.gw.link.send(GatewayToEngine.TRAVEL_OUT, 4, encodeTravelOutBody({ to: 'pair:1', arrival: '', local: true }));
    const failed = await c.gw.waitFor((m) => m.type === EngineToGateway.TRAVEL_FAILED && m.channel === 4);
    assert.equal(decodeJoinFailedBody(failed.body).code, ErrorCodes.ENG_ERR_FULL);
    await outcome(c, 4, ErrorCodes.ENG_ERR_FULL);
    assert.equal((await state(c, 4)).sceneId, 'arena:1');
    // A reserved seat for another engine's travel: refused the same way.
    c.gw.link.send(GatewayToEngine.JOIN, 5, encodeJoinBody({ playerId: 'p5', name: 'p5', sceneId: 'pair:1', reserve: true, from: 'elsewhere:1' }));
    const noSeat = await c.gw.waitFor((m) => m.type === EngineToGateway.JOIN_FAILED && m.channel === 5);
    assert.equal(decodeJoinFailedBody(noSeat.body).code, ErrorCodes.ENG_ERR_FULL);
    // p1 on a new connection takes its own seat over: not a third player.
    await c.gw.join(6, 'p1', 'pair:1');
    // A cap that is not a positive integer keeps the scene from starting.
    await c.coordinator.placement.ensure('badcap:1');
    c.gw.link.send(GatewayToEngine.JOIN, 7, encodeJoinBody({ playerId: 'p7', name: 'p7', sceneId: 'badcap:1' }));
    const bad = await c.gw.waitFor((m) => m.type === EngineToGateway.JOIN_FAILED && m.channel === 7);
    assert.equal(decodeJoinFailedBody(bad.body).code, ErrorCodes.OPT_ERR_INVALID);
  } finally {
    await c.close();
  }
});

test("an engine at its CCU cap refuses a travel's reserved seat with ENG_ERR_FULL: the player stays where it was, with its data; with room, the same travel goes", async () => {
  const c = await startCluster(dir, 'ccu', { workers: 1 });
  // The target's engine takes one player at most (the CCU cap, `capacity`).
  const target = new Engine({ engineId: 'engine-u', clusterSecret: SECRET, gameModule: GAME, store: c.store, coordinator: c.coordinator, workers: 1, capacity: 1, persistIntervalMs: 200, workerLogLevel: 'silent' });
  await target.start();
  const gw2 = new FakeGateway(Number(target.address.split(':')[1]), 'gw-test-2');
  await gw2.start();
  const t = { gw: gw2 };
  try {
    await c.coordinator.placement.assign('arena:5', 'engine-u');
    await c.coordinator.placement.assign('arena:6', 'engine-u');
    // engine-u is at its cap: zed plays in arena:5, a scene with room (arena has no maxPlayers).
    await gw2.join(9, 'zed', 'arena:5');
    await c.gw.join(1, 'dan');
    await c.gw.request(1, 'add', { n: 4 });
    // The gateway's part: the scene asks (TRAVEL), the target's engine is asked for a seat (JOIN reserve)…
    const asked = await askTravel(c, 1, 'arena:5', { x: 3 });
    gw2.link.send(GatewayToEngine.JOIN, 1, encodeJoinBody({ playerId: 'dan', name: 'dan', sceneId: 'arena:5', arrival: asked.arrival, reserve: true, from: 'arena:1' }));
    const refused = decodeJoinFailedBody((await gw2.waitFor((m) => m.type === EngineToGateway.JOIN_FAILED && m.channel === 1)).body);
    assert.equal(refused.code, ErrorCodes.ENG_ERR_FULL);
    assert.match(refused.message, /CCU cap/);
    // …and refuses: the gateway frees the seat and tells the source (TRAVEL_CANCEL), which never let the player go.
    gw2.leave(1);
    c.gw.link.send(GatewayToEngine.TRAVEL_CANCEL, 1, encodeJoinFailedBody(refused));
    await outcome(c, 1, ErrorCodes.ENG_ERR_FULL);
    const s = await state(c, 1);
    assert.deepEqual([s.sceneId, s.total], ['arena:1', 4]);
    assert.equal(c.gw.inbox.filter((m) => m.type === EngineToGateway.TRAVEL_RELEASED).length, 0, 'the source never released the player');
    assert.notEqual(await c.store.playerScene('dan'), 'arena:5');
    assert.equal(c.engine.stats.players, 1);
    assert.equal(target.stats.players, 1, 'only zed on the target');
    assert.equal((await c.gw.request(1, 'add', { n: 1 })).kind, FrameKind.RESPONSE, 'the player plays on in its scene');

    // zed leaves: room again, and the same travel goes through with the data and the arrival.
    gw2.leave(9);
    await waitFor(() => target.stats.players === 0, { timeoutMs: 5000, message: 'zed gone from engine-u' });
    const again = await askTravel(c, 1, 'arena:5', { x: 3 });
    gw2.link.send(GatewayToEngine.JOIN, 2, encodeJoinBody({ playerId: 'dan', name: 'dan', sceneId: 'arena:5', arrival: again.arrival, reserve: true, from: 'arena:1' }));
    await gw2.waitFor((m) => m.type === EngineToGateway.TRAVEL_READY && m.channel === 2);
    c.gw.link.send(GatewayToEngine.TRAVEL_OUT, 1, encodeTravelOutBody({ to: 'arena:5', arrival: '', local: false }));
    await c.gw.waitFor((m) => m.type === EngineToGateway.TRAVEL_RELEASED && m.channel === 1);
    gw2.link.send(GatewayToEngine.TRAVEL_IN, 2, new Uint8Array(0));
    assert.equal(decodeJoinedBody((await gw2.waitFor((m) => m.type === EngineToGateway.JOINED && m.channel === 2)).body).sceneId, 'arena:5');
    const there = await state(t, 2);
    assert.deepEqual([there.sceneId, there.total, there.arrival], ['arena:5', 5, { x: 3 }]);

    // engine-u is at its cap again, with dan: a travel within it is not refused (its own seat)…
    const local = await askTravel(t, 2, 'arena:6');
    gw2.link.send(GatewayToEngine.TRAVEL_OUT, 2, encodeTravelOutBody({ to: local.to, arrival: local.arrival, local: true }));
    assert.equal(decodeJoinedBody((await gw2.waitFor((m) => m.type === EngineToGateway.JOINED && m.channel === 2)).body).sceneId, 'arena:6');
    await outcome(t, 2, 'ok');
    assert.deepEqual([(await state(t, 2)).sceneId, target.stats.players], ['arena:6', 1]);
    // …while a login past it still is.
    gw2.link.send(GatewayToEngine.JOIN, 3, encodeJoinBody({ playerId: 'eli', name: 'eli', sceneId: 'arena:5' }));
    assert.equal(decodeJoinFailedBody((await gw2.waitFor((m) => m.type === EngineToGateway.JOIN_FAILED && m.channel === 3)).body).code, ErrorCodes.ENG_ERR_FULL);
  } finally {
    await gw2.close();
    await target.close();
    await c.close();
  }
});

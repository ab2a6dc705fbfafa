/**
 * The engine end to end, without a gateway: a real LinkClient plays the gateway, scenes run on
 * real worker threads, data goes to a real SQLite file.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import { CloseCode, ErrorCodes, ErrorReplyCodec, FrameKind, encodeFrame, framePayload, readFrameHeader, CORE_PUSH, SceneRestartedCodec } from '@gos/schema';
import { MemoryCoordinator, type Coordinator, type Placement, type SceneHandover } from '@gos/coordinator';
import { EngineToGateway, GatewayToEngine, decodeBroadcastBody, encodeJoinBody, decodeJoinFailedBody, decodeKickBody } from '@gos/link';
import type { Store } from '@gos/store';
import { waitFor } from '@gos/testing';
import { jsonCodec } from './fixtures/json-protocol.js';
import { FakeGateway, startCluster, type ClusterOptions } from './helpers.js';

let dir: string;

/** Wait until the store holds `total` for the player (a periodic save has landed). */
async function savedTotal(store: Store, playerId: string, total: number): Promise<void> {
  await waitFor(async () => ((await store.loadPlayer(playerId))?.data as { total?: number } | undefined)?.total === total, {
    timeoutMs: 5000,
    message: `${playerId} to be persisted with total ${total}`,
  });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gos-engine-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * A coordinator whose cached view lags (like an etcd watch that has not delivered an event yet)
 * while `lagging` is true: lookup() misses, fetch() reads the truth.
 */
function laggingCoordinator(): Coordinator & { lagging: boolean } {
  const inner = new MemoryCoordinator();
  const c: Coordinator & { lagging: boolean } = {
    lagging: true,
    membership: inner.membership,
    election: inner.election,
    moves: inner.moves,
    drains: inner.drains,
    placement: {
      lookup: (id: string) => (c.lagging ? undefined : inner.placement.lookup(id)),
      fetch: (id: string) => inner.placement.fetch(id),
      ensure: (id: string) => inner.placement.ensure(id),
      release: (id: string, epoch: number) => inner.placement.release(id, epoch),
      move: (id: string, epoch: number, engineId: string, handover?: SceneHandover) => inner.placement.move(id, epoch, engineId, handover),
      scenesOf: (id: string) => inner.placement.scenesOf(id),
      list: () => (c.lagging ? [] : inner.placement.list()),
      watch: (listener: Parameters<Placement['watch']>[0]) => inner.placement.watch(listener),
      requests: () => inner.placement.requests(),
      watchRequests: (listener: Parameters<Placement['watchRequests']>[0]) => inner.placement.watchRequests(listener),
      assign: (id: string, engineId: string) => inner.placement.assign(id, engineId),
      refuse: (id: string, error: { code: string; message: string }) => inner.placement.refuse(id, error),
      dismiss: (id: string) => inner.placement.dismiss(id),
    },
    start: () => inner.start(),
    close: () => inner.close(),
  };
  return c;
}

function cluster(name: string, opts: ClusterOptions = {}): ReturnType<typeof startCluster> {
  return startCluster(dir, name, opts);
}

test('requests reach the scene handler on a worker thread and answers come back', async () => {
  const c = await cluster('basic');
  try {
    await c.gw.join(1, 'alice');
    const r1 = await c.gw.request(1, 'add', { n: 2 });
    assert.deepEqual(r1, { kind: FrameKind.RESPONSE, body: { total: 2 } });
    const r2 = await c.gw.request(1, 'add', { n: 5 });
    assert.deepEqual(r2.body, { total: 7 });
    const s = await c.gw.request(1, 'state', {});
    assert.deepEqual(s.body, { joins: 1, total: 7, players: 1 });
  } finally {
    await c.close();
  }
});

test("a join for a scene placed a moment ago is accepted before the engine's cached view has it", async () => {
  const coordinator = laggingCoordinator();
  const c = await cluster('lagging-view', { coordinator });
  try {
    assert.equal(coordinator.placement.lookup('arena:1'), undefined, 'the view lags');
    await c.gw.join(1, 'alice'); // arena:1 was placed by cluster(): fetch() finds it
    assert.deepEqual((await c.gw.request(1, 'add', { n: 1 })).body, { total: 1 });
    // A scene placed nowhere is still refused.
    c.gw.link.send(GatewayToEngine.JOIN, 2, encodeJoinBody({ playerId: 'bob', name: 'bob', sceneId: 'arena:404' }));
    const failed = await c.gw.waitFor((m) => m.type === EngineToGateway.JOIN_FAILED && m.channel === 2);
    assert.equal(decodeJoinFailedBody(failed.body).code, 'ENG_ERR_SCENE_MOVED');
  } finally {
    await c.close();
  }
});

test('a join that needs a scene beyond workers × scenesPerWorker is refused at once with ENG_ERR_FULL', async () => {
  const c = await cluster('full', { workers: 1, scenesPerWorker: 1 });
  try {
    await c.gw.join(1, 'alice'); // arena:1 takes the only slot
    await c.coordinator.placement.ensure('arena:2');
    c.gw.link.send(GatewayToEngine.JOIN, 2, encodeJoinBody({ playerId: 'bob', name: 'bob', sceneId: 'arena:2' }));
    const failed = await c.gw.waitFor((m) => m.type === EngineToGateway.JOIN_FAILED && m.channel === 2);
    assert.equal(decodeJoinFailedBody(failed.body).code, 'ENG_ERR_FULL');
    // The scene that runs is unaffected, and its scene can take more players.
    await c.gw.join(3, 'carol');
    assert.deepEqual((await c.gw.request(3, 'state', {})).body, { joins: 2, total: 0, players: 2 });
  } finally {
    await c.close();
  }
});

test('the CCU cap: a join past `capacity` players is refused with ENG_ERR_FULL; a takeover of a hosted player is not', async () => {
  const c = await cluster('cap', { capacity: 1 });
  try {
    await c.gw.join(1, 'alice');
    c.gw.link.send(GatewayToEngine.JOIN, 2, encodeJoinBody({ playerId: 'bob', name: 'bob', sceneId: 'arena:1' }));
    const failed = await c.gw.waitFor((m) => m.type === EngineToGateway.JOIN_FAILED && m.channel === 2);
    assert.equal(decodeJoinFailedBody(failed.body).code, 'ENG_ERR_FULL');
    await c.gw.join(3, 'alice'); // alice again (a reconnect): takes her own seat over
    assert.deepEqual((await c.gw.request(3, 'state', {})).body, { joins: 1, total: 0, players: 1 });
    // The leader sees the engine at its cap and places no new scene on it.
    await waitFor(() => c.coordinator.membership.get('engine-t')?.load === 1, { timeoutMs: 5000, message: 'the engine to publish a load of 1' });
    await assert.rejects(c.coordinator.placement.ensure('arena:2'), { code: 'CRD_ERR_NO_ENGINE' });
  } finally {
    await c.close();
  }
});

test('the engine publishes its scenes, their players and tick costs, and its threads\' utilisation with its membership', async () => {
  const c = await cluster('figures');
  try {
    // Idle workers wait on a message port, not blocked in Atomics.wait (which reads as 100% busy
    // for ever). The first samples include the workers' start, busy on a loaded machine (0.61
    // seen on CI): an idle engine's figure must come down.
    const idle = await waitFor(
      () => {
        const m = c.coordinator.membership.get('engine-t');
        return m?.utilisation !== undefined && m.utilisation < 0.5 ? m : undefined;
      },
      { timeoutMs: 10_000, message: "an idle engine's threads not busy (utilisation under 0.5)" },
    );
    assert.equal(idle.scenes, 0);
    await c.gw.join(1, 'gus');
    // The scene starts before its first player is in: the figures may show it empty for a moment.
    await waitFor(() => c.coordinator.membership.get('engine-t')?.sceneLoads?.['arena:1'] === 1, { timeoutMs: 5000, message: 'the engine to publish 1 scene with its player' });
    const me = c.coordinator.membership.get('engine-t')!;
    assert.equal(me.scenes, 1);
    assert.equal(me.load, 1);
    assert.deepEqual(me.sceneLoads, { 'arena:1': 1 });
    assert.ok(typeof me.utilisation === 'number' && me.utilisation >= 0 && me.utilisation <= 1, `utilisation ${String(me.utilisation)}`);
    assert.ok(me.threads !== undefined && me.threads >= 1, `threads ${String(me.threads)}`);
    // Ticks of 20 ms that each work 10 ms: about half a thread (rebalancing by thread time reads it).
    await c.gw.request(1, 'busyTicks', { ms: 10 });
    await waitFor(() => (c.coordinator.membership.get('engine-t')?.sceneCosts?.['arena:1'] ?? 0) >= 0.3, { timeoutMs: 10_000, message: 'the scene\'s tick cost published' });
    await c.gw.request(1, 'busyTicks', { ms: 0 });
  } finally {
    await c.close();
  }
});

test('a scene without players for idleSceneMs is stopped and saved, its placement released by the leader, and placed anew on the next join', async () => {
  const c = await cluster('idle', { idleSceneMs: 400, persistIntervalMs: 60_000 });
  try {
    // Placed (again, should it have gone idle already on a slow machine) right before the join.
    const first = await c.coordinator.placement.ensure('arena:1');
    await c.gw.join(1, 'erin');
    await c.gw.request(1, 'add', { n: 5 });
    c.gw.leave(1);
    await waitFor(() => c.coordinator.placement.lookup('arena:1') === undefined, { timeoutMs: 5000, message: 'the idle scene\'s placement to be released' });
    assert.equal(c.coordinator.placement.lookup('arena:1'), undefined, 'released once idle');
    assert.equal(c.engine.stats.scenes, 0);
    // Saved when stopped (no periodic save ran).
    assert.equal(((await c.store.loadScene('arena:1'))?.data as { joins: number }).joins, 1);
    assert.deepEqual((await c.store.loadPlayer('erin'))?.data, { total: 5 });
    const again = await c.coordinator.placement.ensure('arena:1');
    assert.ok(again.epoch > first.epoch);
    await c.gw.join(2, 'erin');
    assert.deepEqual((await c.gw.request(2, 'state', {})).body, { joins: 2, total: 5, players: 1 });
  } finally {
    await c.close();
  }
});

test('a scene whose placement is released while it starts does not run unplaced: stopped again, the join sent on with ENG_ERR_SCENE_MOVED', async () => {
  const c = await cluster('released-while-starting', { persistIntervalMs: 60_000 });
  try {
    const placed = c.coordinator.placement.lookup('arena:1')!;
    // The release lands while the engine claims the scene's row, before the scene runs.
    const claim = c.store.claimScene.bind(c.store);
    c.store.claimScene = async (sceneId: string) => {
      const claimed = await claim(sceneId);
      assert.equal(await c.coordinator.placement.release(sceneId, placed.epoch), true);
      return claimed;
    };
    c.gw.link.send(GatewayToEngine.JOIN, 1, encodeJoinBody({ playerId: 'hal', name: 'hal', sceneId: 'arena:1' }));
    const failed = await c.gw.waitFor((m) => m.type === EngineToGateway.JOIN_FAILED && m.channel === 1);
    assert.equal(decodeJoinFailedBody(failed.body).code, 'ENG_ERR_SCENE_MOVED');
    await waitFor(() => c.engine.stats.scenes === 0, { timeoutMs: 5000, message: 'the unplaced scene to stop' });
    assert.equal(c.engine.stats.scenes, 0, 'no scene runs without a placement');
    assert.equal(c.engine.stats.players, 0);
  } finally {
    await c.close();
  }
});

test('a scene whose placement is released under its players is stopped, saved, and its players sent back with ENG_ERR_SCENE_MOVED', async () => {
  const c = await cluster('moved', { persistIntervalMs: 60_000 });
  try {
    await c.gw.join(1, 'fred');
    await c.gw.request(1, 'add', { n: 9 });
    const placed = c.coordinator.placement.lookup('arena:1')!;
    // What the leader does when this engine's lease was lost (it was paused, or cut off).
    assert.equal(await c.coordinator.placement.release('arena:1', placed.epoch), true);
    const moved = await c.gw.waitFor((m) => m.type === EngineToGateway.JOIN_FAILED && m.channel === 1);
    assert.equal(decodeJoinFailedBody(moved.body).code, 'ENG_ERR_SCENE_MOVED');
    // Everything was written before the player was let go.
    assert.deepEqual((await c.store.loadPlayer('fred'))?.data, { total: 9 });
    assert.equal(c.engine.stats.players, 0);
    // Placed again (here: the only engine), the player comes back to its data.
    await c.coordinator.placement.ensure('arena:1');
    await c.gw.join(2, 'fred');
    assert.deepEqual((await c.gw.request(2, 'add', { n: 1 })).body, { total: 10 });
  } finally {
    await c.close();
  }
});

test('a handler that throws answers a coded error to that client only, and the scene goes on', async () => {
  const c = await cluster('errors');
  try {
    await c.gw.join(1, 'alice');
    await c.gw.join(2, 'bob');
    const coded = await c.gw.request(1, 'fail', {});
    assert.equal(coded.kind, FrameKind.ERROR);
    assert.deepEqual(coded.body, { code: 'GAME_ERR_NOT_ALLOWED', message: 'you may not', retryable: false });
    const hidden = await c.gw.request(1, 'boom', {});
    assert.equal((hidden.body as { code: string }).code, 'ENG_ERR_HANDLER_FAILED');
    assert.doesNotMatch((hidden.body as { message: string }).message, /secret internal detail/);
    // Truncated payload: the codec refuses it with a coded error.
    c.gw.link.send(GatewayToEngine.CLIENT_FRAME, 2, encodeFrame(FrameKind.REQUEST, 1, 999, new TextEncoder().encode('{"n":')));
    const m = await c.gw.waitFor((x) => x.channel === 2 && readFrameHeader(x.body)?.requestId === 999);
    assert.equal(ErrorReplyCodec.decode(framePayload(m.body)).code, 'SCH_ERR_BAD_PAYLOAD');
    // Nobody else got an error frame; bob's scene still works.
    assert.deepEqual((await c.gw.request(2, 'state', {})).body, { joins: 2, total: 0, players: 2 });
    // A route the scene has no handler for.
    c.gw.link.send(GatewayToEngine.CLIENT_FRAME, 2, encodeFrame(FrameKind.REQUEST, 4242, 1000, null));
    const nh = await c.gw.waitFor((x) => x.channel === 2 && readFrameHeader(x.body)?.requestId === 1000);
    assert.equal(ErrorReplyCodec.decode(framePayload(nh.body)).code, 'ENG_ERR_NO_HANDLER');
  } finally {
    await c.close();
  }
});

test('broadcasts go once per gateway with the scene topic', async () => {
  const c = await cluster('broadcast');
  try {
    await c.gw.join(1, 'alice');
    await c.gw.join(2, 'bob');
    const ack = await c.gw.request(1, 'shout', { text: 'hi' });
    assert.equal(ack.kind, FrameKind.RESPONSE);
    const b = await c.gw.waitFor((m) => m.type === EngineToGateway.BROADCAST);
    const { topic, frame } = decodeBroadcastBody(b.body);
    assert.equal(topic, 's/arena:1');
    assert.equal(readFrameHeader(frame)?.opcode, 100);
    assert.deepEqual(jsonCodec.decode(framePayload(frame)), { from: 'alice', text: 'hi' });
    // A duration, not a condition: no second broadcast arrives within 100 ms.
    await setTimeout(100);
    assert.equal(c.gw.inbox.filter((m) => m.type === EngineToGateway.BROADCAST).length, 0);
  } finally {
    await c.close();
  }
});

test('a broadcast goes to each gateway with players in the scene, and stops going to one whose players left', async () => {
  const c = await cluster('broadcast-gateways');
  const gw2 = new FakeGateway(c.port, 'gw-test-2');
  try {
    await gw2.start();
    await c.gw.join(1, 'alice');
    await gw2.join(1, 'bob');
    await c.gw.join(2, 'carol');
    const shout = async (text: string): Promise<void> => {
      assert.equal((await c.gw.request(1, 'shout', { text })).kind, FrameKind.RESPONSE);
    };
    const broadcasts = (gw: FakeGateway): number => gw.inbox.filter((m) => m.type === EngineToGateway.BROADCAST).length;

    await shout('both');
    // One each, however many of the scene's players came through it.
    for (const gw of [c.gw, gw2]) {
      const { topic, frame } = decodeBroadcastBody((await gw.waitFor((m) => m.type === EngineToGateway.BROADCAST)).body);
      assert.equal(topic, 's/arena:1');
      assert.deepEqual(jsonCodec.decode(framePayload(frame)), { from: 'alice', text: 'both' });
    }

    gw2.leave(1);
    await waitFor(async () => isDeepStrictEqual((await c.gw.request(1, 'state', {})).body, { joins: 3, total: 0, players: 2 }), { message: 'bob to leave the scene' });
    await shout('one');
    const { frame } = decodeBroadcastBody((await c.gw.waitFor((m) => m.type === EngineToGateway.BROADCAST)).body);
    assert.deepEqual(jsonCodec.decode(framePayload(frame)), { from: 'alice', text: 'one' });
    // A duration, not a condition: nothing more arrives within 100 ms, at either gateway.
    await setTimeout(100);
    assert.equal(broadcasts(c.gw), 0);
    assert.equal(broadcasts(gw2), 0);
  } finally {
    await gw2.close();
    await c.close();
  }
});

test('a JOIN the scene ring refuses leaves no seat behind: the next join loads the saved data', async () => {
  // A ring of 4 KiB takes records of at most 2 KiB: a JOIN carrying a 3,000-character name does not fit.
  const c = await cluster('join-too-large', { engine: { ringBytes: 4096 } });
  try {
    await c.gw.join(1, 'erin');
    assert.deepEqual((await c.gw.request(1, 'add', { n: 5 })).body, { total: 5 });
    c.gw.leave(1);
    await waitFor(async () => isDeepStrictEqual((await c.store.loadPlayer('erin'))?.data, { total: 5 }), { message: "erin's data to be saved" });

    c.gw.link.send(GatewayToEngine.JOIN, 2, encodeJoinBody({ playerId: 'erin', name: 'e'.repeat(3000), sceneId: 'arena:1' }));
    const failed = await c.gw.waitFor((m) => m.type === EngineToGateway.JOIN_FAILED && m.channel === 2);
    assert.equal(decodeJoinFailedBody(failed.body).code, ErrorCodes.ENG_ERR_RECORD_TOO_LARGE);
    assert.equal(c.gw.inbox.filter((m) => m.type === EngineToGateway.JOINED && m.channel === 2).length, 0);

    // Not a takeover of the connection that failed: the saved row is loaded.
    await c.gw.join(3, 'erin');
    assert.deepEqual((await c.gw.request(3, 'add', { n: 1 })).body, { total: 6 });
    assert.deepEqual((await c.gw.request(3, 'state', {})).body, { joins: 2, total: 6, players: 1 });
  } finally {
    await c.close();
  }
});

test("a takeover whose JOIN the scene ring refuses gives the seat back to the connection still playing", async () => {
  // No periodic save: the player's data is only in its scene, and a rejoin must wait for its hand-over.
  const c = await cluster('takeover-too-large', { engine: { ringBytes: 4096 }, persistIntervalMs: 60_000 });
  try {
    await c.gw.join(1, 'gina');
    assert.deepEqual((await c.gw.request(1, 'add', { n: 5 })).body, { total: 5 });
    // The same player on a second connection, with a JOIN too large for the ring: refused.
    c.gw.link.send(GatewayToEngine.JOIN, 2, encodeJoinBody({ playerId: 'gina', name: 'g'.repeat(3000), sceneId: 'arena:1' }));
    const failed = await c.gw.waitFor((m) => m.type === EngineToGateway.JOIN_FAILED && m.channel === 2);
    assert.equal(decodeJoinFailedBody(failed.body).code, ErrorCodes.ENG_ERR_RECORD_TOO_LARGE);
    // The first connection still plays, and holds the seat: its leave hands the data over to the next join.
    assert.deepEqual((await c.gw.request(1, 'add', { n: 1 })).body, { total: 6 });
    c.gw.leave(1);
    await c.gw.join(3, 'gina');
    assert.deepEqual((await c.gw.request(3, 'add', { n: 1 })).body, { total: 7 });
  } finally {
    await c.close();
  }
});

test('a frame held while joining that the scene ring refuses is answered with a code; the join goes on', async () => {
  const c = await cluster('held-too-large', { engine: { ringBytes: 4096 } });
  try {
    // A reserved seat waits for TRAVEL_IN before it joins: a frame sent in between is held for certain.
    c.gw.link.send(GatewayToEngine.JOIN, 1, encodeJoinBody({ playerId: 'finn', name: 'finn', sceneId: 'arena:1', reserve: true, from: 'elsewhere:1' }));
    await c.gw.waitFor((m) => m.type === EngineToGateway.TRAVEL_READY && m.channel === 1);
    const big = c.gw.frame('add', { n: 1, pad: 'p'.repeat(3000) });
    c.gw.link.send(GatewayToEngine.CLIENT_FRAME, 1, big.frame);
    c.gw.link.send(GatewayToEngine.TRAVEL_IN, 1, new Uint8Array(0));
    const answer = await c.gw.answer(1, big.requestId);
    assert.equal(answer.kind, FrameKind.ERROR);
    const { body } = answer;
    assert.ok(typeof body === 'object' && body !== null && 'code' in body && body.code === ErrorCodes.ENG_ERR_RECORD_TOO_LARGE, `got ${JSON.stringify(body)}`);
    await c.gw.waitFor((m) => m.type === EngineToGateway.JOINED && m.channel === 1);
    assert.deepEqual((await c.gw.request(1, 'add', { n: 2 })).body, { total: 2 });
    assert.equal(c.gw.inbox.filter((m) => m.type === EngineToGateway.JOIN_FAILED).length, 0);
  } finally {
    await c.close();
  }
});

test('player data is written back on leave and loaded again on join', async () => {
  const c = await cluster('hotdata');
  try {
    await c.gw.join(1, 'carol');
    await c.gw.request(1, 'add', { n: 40 });
    c.gw.leave(1);
    // Rejoin at once: the engine must hand over the data just left, not an older row.
    await c.gw.join(2, 'carol');
    assert.deepEqual((await c.gw.request(2, 'add', { n: 2 })).body, { total: 42 });
    c.gw.leave(2);
    await c.engine.close();
    const row = await c.store.loadPlayer('carol');
    assert.deepEqual(row?.data, { total: 42 });
    const scene = await c.store.loadScene('arena:1');
    assert.equal((scene?.data as { joins: number }).joins, 2);
  } finally {
    await c.close();
  }
});

test('a graceful stop saves every player and scene before the engine leaves the cluster', async () => {
  // No periodic save: only the stop can write the last change.
  const c = await cluster('drain', { persistIntervalMs: 60_000 });
  try {
    await c.gw.join(1, 'dora');
    await c.gw.request(1, 'add', { n: 7 });
    // When the engine leaves, another may claim its rows at once: they must be final by then.
    const atLeave: { row?: Promise<unknown> } = {};
    c.coordinator.membership.watch((event) => {
      if (event.type === 'down' && event.member.id === 'engine-t') atLeave.row ??= c.store.loadPlayer('dora').then((r) => r?.data);
    });
    await c.engine.close();
    assert.ok(atLeave.row !== undefined, 'the engine left the cluster');
    assert.deepEqual(await atLeave.row, { total: 7 }, 'the player was saved before the engine left');
  } finally {
    await c.close();
  }
});

test('the same player on a second connection takes over and the first is kicked', async () => {
  const c = await cluster('takeover');
  try {
    await c.gw.join(1, 'dave');
    await c.gw.request(1, 'add', { n: 3 });
    await c.gw.join(2, 'dave');
    const kick = await c.gw.waitFor((m) => m.type === EngineToGateway.KICK && m.channel === 1);
    assert.equal(decodeKickBody(kick.body).closeCode, CloseCode.SESSION_REPLACED);
    // Hot data carried over without a reload.
    assert.deepEqual((await c.gw.request(2, 'add', { n: 1 })).body, { total: 4 });
    c.gw.leave(1);
    assert.deepEqual((await c.gw.request(2, 'state', {})).body, { joins: 1, total: 4, players: 1 });
  } finally {
    await c.close();
  }
});

test('periodic persistence writes dirty players without a leave', async () => {
  const c = await cluster('periodic', { persistIntervalMs: 100 });
  try {
    await c.gw.join(1, 'erin');
    await c.gw.request(1, 'add', { n: 9 });
    await savedTotal(c.store, 'erin', 9);
    assert.deepEqual((await c.store.loadPlayer('erin'))?.data, { total: 9 });
  } finally {
    await c.close();
  }
});

test('a crashed worker has its scene restarted from the last saved state and players are told', async () => {
  const c = await cluster('crash', { persistIntervalMs: 50 });
  try {
    await c.gw.join(1, 'frank');
    await c.gw.request(1, 'add', { n: 5 });
    // Wait for the periodic save, so the restart has something to load.
    await savedTotal(c.store, 'frank', 5);
    await c.gw.request(1, 'crash', {});
    const push = await c.gw.waitFor((m) => {
      if (m.type !== EngineToGateway.TO_CLIENT || m.channel !== 1) return false;
      const h = readFrameHeader(m.body);
      return h?.kind === FrameKind.PUSH && h.opcode === CORE_PUSH.SceneRestarted;
    }, 10_000);
    assert.equal(SceneRestartedCodec.decode(framePayload(push.body)).sceneId, 'arena:1');
    // The gateway is told first, so that it answers the requests the dead worker never will.
    assert.ok(c.gw.inbox.some((m) => m.type === EngineToGateway.SCENE_CRASHED && m.channel === 1), 'SCENE_CRASHED came before the SceneRestarted push');
    assert.deepEqual((await c.gw.request(1, 'add', { n: 1 })).body, { total: 6 });
  } finally {
    await c.close();
  }
});

test('joins for a scene not placed on this engine are refused with a code', async () => {
  const c = await cluster('refuse');
  try {
    c.gw.link.send(GatewayToEngine.JOIN, 9, encodeJoinBody({ playerId: 'x', name: 'x', sceneId: 'arena:elsewhere' }));
    const m = await c.gw.waitFor((x) => x.type === EngineToGateway.JOIN_FAILED && x.channel === 9);
    assert.equal(decodeJoinFailedBody(m.body).code, 'ENG_ERR_SCENE_MOVED');
  } finally {
    await c.close();
  }
});

test('close is idempotent and refuses joins while draining', async () => {
  const c = await cluster('close');
  await c.gw.join(1, 'gina');
  await Promise.all([c.engine.close(), c.engine.close()]);
  await c.close();
});

test('an async handler whose response cannot be encoded answers an error and the worker lives', async () => {
  const c = await cluster('bad-async');
  try {
    await c.gw.join(1, 'hana');
    await c.gw.join(2, 'ivan');
    const r = await c.gw.request(1, 'badAsync', {});
    assert.equal(r.kind, FrameKind.ERROR);
    assert.equal((r.body as { code: string }).code, 'ENG_ERR_HANDLER_FAILED');
    // No restart happened: the other player was not told about one, and state is intact.
    await c.gw.request(2, 'add', { n: 3 });
    assert.deepEqual((await c.gw.request(2, 'state', {})).body, { joins: 2, total: 3, players: 2 });
    assert.equal(c.gw.inbox.filter((m) => m.type === EngineToGateway.TO_CLIENT && readFrameHeader(m.body)?.opcode === CORE_PUSH.SceneRestarted).length, 0);
  } finally {
    await c.close();
  }
});

test('a player who leaves while the scene restarts after a crash can rejoin, with its data', async () => {
  const c = await cluster('leave-during-restart', { persistIntervalMs: 50 });
  try {
    await c.gw.join(1, 'jack');
    await c.gw.request(1, 'add', { n: 5 });
    await savedTotal(c.store, 'jack', 5);
    await c.gw.request(1, 'crash', {});
    // Leave at once, while the engine is restarting the scene.
    c.gw.leave(1);
    await c.gw.join(2, 'jack', 'arena:1');
    // The join may have reached the worker before it died: a request sent into the dead ring is
    // lost (a real client times out and retries), so ask until the restarted scene answers.
    const answer = await waitFor(() => c.gw.request(2, 'state', {}, 500), { timeoutMs: 5000, message: 'the restarted scene to answer' });
    assert.equal((answer.body as { total?: number } | undefined)?.total, 5);
    assert.deepEqual((await c.gw.request(2, 'add', { n: 1 })).body, { total: 6 });
  } finally {
    await c.close();
  }
});

test('logging in again during a crash restart keeps the saved data and the new connection', async () => {
  const c = await cluster('takeover-during-restart', { persistIntervalMs: 50 });
  try {
    await c.gw.join(1, 'kate');
    await c.gw.request(1, 'add', { n: 5 });
    await savedTotal(c.store, 'kate', 5);
    await c.gw.request(1, 'crash', {});
    await c.gw.join(2, 'kate');
    // A request that reached the dying worker is lost (the client would time out and retry).
    const answer = await waitFor(() => c.gw.request(2, 'state', {}, 500), { timeoutMs: 5000, message: 'the restarted scene to answer' });
    const body = answer.body as { total: number; players: number } | undefined;
    assert.deepEqual({ total: body?.total, players: body?.players }, { total: 5, players: 1 });
  } finally {
    await c.close();
  }
});

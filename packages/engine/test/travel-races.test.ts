/**
 * Scene travel against what can happen during it (a review's reproductions, kept as tests): the
 * socket closing in the middle of a local hand-over, the same player connecting again, a timer
 * of the scene it left, a scene cap filled during the move, a travel nobody awaits, a takeover
 * while a travel is asked. The scene's thread is kept busy (`spin`) to hold a hand-over open.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ErrorCodes, FrameKind, framePayload, readFrameHeader } from '@gos/schema';
import { EngineToGateway, GatewayToEngine, decodeJoinFailedBody, encodeJoinBody, encodeTravelOutBody } from '@gos/link';
import { waitFor } from '@gos/testing';
import { startCluster } from './helpers.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gos-engine-travel-races-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

type Cluster = Awaited<ReturnType<typeof startCluster>>;

const where = async (c: Cluster, connId: number): Promise<{ sceneId: string; total: number }> => (await c.gw.request(connId, 'where', {})).body as { sceneId: string; total: number };
const outcome = async (c: Cluster, connId: number): Promise<string | null> => ((await c.gw.request(connId, 'travelOutcome', {})).body as { outcome: string | null }).outcome;

/** Start a local move of `connId` to `to` while its scene's thread is busy for `ms`: the hand-over stays open that long. */
async function slowLocalMove(c: Cluster, connId: number, to: string, ms = 600): Promise<void> {
  await c.coordinator.placement.ensure(to);
  c.gw.send(connId, 'spin', { ms });
  c.gw.link.send(GatewayToEngine.TRAVEL_OUT, connId, encodeTravelOutBody({ to, arrival: '', local: true }));
  // The engine took the player out (its LEAVE waits behind the busy scene): the hand-over is open.
  await waitFor(() => c.engine.stats.travelling === 1 || undefined, { timeoutMs: 5000, message: 'the player out of its scene' });
}

test('the socket closes in the middle of a local hand-over: the last changes are saved', async () => {
  const c = await startCluster(dir, 'close', { workers: 2, persistIntervalMs: 600_000 });
  try {
    await c.coordinator.placement.ensure('arena:2');
    await c.gw.join(9, 'bob', 'arena:2'); // the target runs already
    await c.gw.join(1, 'alice');
    await c.gw.request(1, 'add', { n: 5 });
    await slowLocalMove(c, 1, 'arena:2');
    c.gw.leave(1);
    await waitFor(async () => JSON.stringify((await c.store.loadPlayer('alice'))?.data) === '{"total":5}', { timeoutMs: 5000, message: "alice's last data on disk" });
    // The player never entered arena:2: the row still names the scene it was in.
    assert.equal(await c.store.playerScene('alice'), 'arena:1');
    assert.equal(c.engine.stats.persister.stale, 0, 'no write refused as stale');
    assert.equal(c.engine.stats.players, 1, 'only bob is seated');
  } finally {
    await c.close();
  }
});

test('the same player connects again during a local hand-over: one scene, the newer connection', async () => {
  const c = await startCluster(dir, 'again', { workers: 2 });
  try {
    await c.coordinator.placement.ensure('arena:2');
    await c.gw.join(9, 'bob', 'arena:2');
    await c.gw.join(1, 'carl');
    await c.gw.request(1, 'add', { n: 3 });
    await slowLocalMove(c, 1, 'arena:2');
    // Through another gateway, say, to the scene its session still names.
    c.gw.link.send(GatewayToEngine.JOIN, 2, encodeJoinBody({ playerId: 'carl', name: 'carl', sceneId: 'arena:1' }));
    await c.gw.waitFor((m) => m.type === EngineToGateway.JOINED && m.channel === 2);
    await c.gw.waitFor((m) => m.type === EngineToGateway.KICK && m.channel === 1);
    const w = await where(c, 2);
    assert.deepEqual([w.sceneId, w.total], ['arena:1', 3], 'the newer connection, with the data of the older');
    assert.equal(c.engine.stats.players, 2, 'bob and carl, once');
    // The older connection is not in the target any more: its frames are refused.
    assert.equal((await c.gw.request(1, 'where', {})).kind, FrameKind.ERROR);
  } finally {
    await c.close();
  }
});

test('a timer of the scene the player left does not reach it', async () => {
  const c = await startCluster(dir, 'timer', { workers: 2 });
  try {
    await c.coordinator.placement.ensure('arena:2');
    await c.gw.join(9, 'bob', 'arena:2'); // started first: the move takes milliseconds, well within the timer's delay
    await c.gw.join(1, 'dora');
    await c.gw.request(1, 'later', { ms: 300 });
    c.gw.link.send(GatewayToEngine.TRAVEL_OUT, 1, encodeTravelOutBody({ to: 'arena:2', arrival: '', local: true }));
    await c.gw.waitFor((m) => m.type === EngineToGateway.JOINED && m.channel === 1);
    // The same timer in arena:2 fires after the one left behind in arena:1: once it is in, the other has had its chance.
    await c.gw.request(1, 'later', { ms: 400 });
    const shouts = (): string[] =>
      c.gw.inbox
        .filter((m) => m.type === EngineToGateway.TO_CLIENT && m.channel === 1 && readFrameHeader(m.body)?.kind === FrameKind.PUSH && readFrameHeader(m.body)?.opcode === 100)
        .map((m) => (JSON.parse(new TextDecoder().decode(framePayload(m.body))) as { text: string }).text);
    await waitFor(() => shouts().includes('arena:2'), { timeoutMs: 5000, message: 'the timer of arena:2' });
    assert.deepEqual(shouts(), ['arena:2']);
  } finally {
    await c.close();
  }
});

test('a scene cap holds while a local move is under way', async () => {
  const c = await startCluster(dir, 'cap-race', { workers: 2 });
  try {
    await c.coordinator.placement.ensure('pair:1');
    await c.gw.join(5, 'p1', 'pair:1');
    await c.gw.join(1, 'eve');
    await slowLocalMove(c, 1, 'pair:1');
    // eve holds the second place until she is in: p2 is refused.
    c.gw.link.send(GatewayToEngine.JOIN, 6, encodeJoinBody({ playerId: 'p2', name: 'p2', sceneId: 'pair:1' }));
    const refused = await c.gw.waitFor((m) => m.type === EngineToGateway.JOIN_FAILED && m.channel === 6);
    assert.equal(decodeJoinFailedBody(refused.body).code, ErrorCodes.ENG_ERR_FULL);
    await c.gw.waitFor((m) => m.type === EngineToGateway.JOINED && m.channel === 1);
    assert.equal((await where(c, 1)).sceneId, 'pair:1');
  } finally {
    await c.close();
  }
});

test('a travel refused with nobody awaiting it does not end the scene', async () => {
  const c = await startCluster(dir, 'nocatch', { workers: 1 });
  try {
    await c.gw.join(1, 'fay');
    await c.gw.join(2, 'gus');
    await c.gw.request(1, 'add', { n: 4 });
    assert.equal((await c.gw.request(1, 'travelNoCatch', {})).kind, FrameKind.RESPONSE);
    // Answered after it, by the same thread: had the rejection been unhandled, the thread would be gone.
    const w = await where(c, 2);
    assert.equal(w.sceneId, 'arena:1');
    assert.equal((await where(c, 1)).total, 4);
    assert.equal(c.gw.inbox.filter((m) => m.type === EngineToGateway.SCENE_CRASHED).length, 0);
  } finally {
    await c.close();
  }
});

test('a takeover while a travel is asked: the old travel is refused, the new connection can travel', async () => {
  const c = await startCluster(dir, 'takeover', { workers: 1 });
  try {
    await c.coordinator.placement.ensure('arena:2');
    await c.gw.join(1, 'hal');
    await c.gw.request(1, 'travel', { to: 'arena:2' });
    await c.gw.waitFor((m) => m.type === EngineToGateway.TRAVEL && m.channel === 1);
    await c.gw.join(2, 'hal'); // the same player on a new connection, in the same scene
    assert.equal(await outcome(c, 2), ErrorCodes.ENG_ERR_TRAVEL);
    // The old connection's TRAVEL_OUT finds it no longer holds the player.
    c.gw.link.send(GatewayToEngine.TRAVEL_OUT, 1, encodeTravelOutBody({ to: 'arena:2', arrival: '', local: true }));
    const failed = await c.gw.waitFor((m) => m.type === EngineToGateway.TRAVEL_FAILED && m.channel === 1);
    assert.equal(decodeJoinFailedBody(failed.body).code, ErrorCodes.ENG_ERR_TRAVEL);
    assert.equal((await where(c, 2)).sceneId, 'arena:1');
    await c.gw.request(2, 'travel', { to: 'arena:2' });
    await c.gw.waitFor((m) => m.type === EngineToGateway.TRAVEL && m.channel === 2);
    assert.equal(await outcome(c, 2), 'pending');
  } finally {
    await c.close();
  }
});

test('a player joining a scene other than the one its row names (a travel given up half-way, then a resume) is saved naming the scene it is in', async () => {
  const c = await startCluster(dir, 'relocated', { workers: 1, persistIntervalMs: 100 });
  try {
    // The row names arena:2 (the source's hand-over of a travel that never landed), data unchanged since.
    const claim = await c.store.claimPlayer('carol');
    assert.deepEqual(await c.store.saveBatch([{ kind: 'player', id: 'carol', data: { hp: 3 }, expectedVersion: 0, fence: claim.fence, sceneId: 'arena:2' }]), [{ ok: true, version: 1 }]);
    await c.gw.join(1, 'carol');
    assert.equal((await where(c, 1)).sceneId, 'arena:1');
    // Nothing changed in its data; its row names the scene it is in all the same (a login returns here).
    await waitFor(async () => (await c.store.playerScene('carol')) === 'arena:1', { timeoutMs: 5000, message: 'the row to name arena:1' });
  } finally {
    await c.close();
  }
});

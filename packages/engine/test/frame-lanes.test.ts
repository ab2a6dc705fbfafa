/**
 * Frame lanes (FrameLanes, docs/link.md "Frame lanes"): an in-process gateway hands a joined player's frames
 * straight to the engine's part that writes them into the scene's ring. The lane takes only the
 * plain case, is checked where it comes back, and follows the connection (a local travel moves
 * it with the player); anything else is refused and comes over the link, where the engine's
 * rules answer it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CORE_PUSH, ErrorCodes, FrameKind, readFrameHeader } from '@gos/schema';
import { EngineToGateway, GatewayToEngine, LocalLinks, decodeTravelBody, encodeTravelOutBody } from '@gos/link';
import { FakeGateway, startCluster } from './helpers.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gos-engine-lanes-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * The engine on one worker thread (every scene on one thread), linked in-process to a gateway
 * played by the test (`gw-local`, started): `localLinks` to link more.
 */
async function startLaneCluster(name: string, persistIntervalMs?: number) {
  const localLinks = new LocalLinks();
  const c = await startCluster(dir, name, { workers: 1, engine: { localLinks }, ...(persistIntervalMs === undefined ? {} : { persistIntervalMs }) });
  const gw = new FakeGateway(localLinks.connect('engine-t', 'gw-local'), 'gw-local');
  await gw.start();
  return { c, gw, localLinks };
}

test("in-process: a joined player's frames take its lane to the scene, follow it on a local travel, and stop at its leave", async () => {
  // One worker: both scenes on one thread.
  const { c, gw, localLinks } = await startLaneCluster('lanes');
  try {
    assert.equal(gw.link.lane?.(1), null, 'no lane before the join');
    await gw.join(1, 'alice');
    const lane = gw.link.lane?.(1) ?? null;
    assert.ok(lane !== null, 'a lane once joined');

    const framesOut = gw.link.stats.framesOut;
    const add = gw.frame('add', { n: 5 });
    assert.equal(gw.link.deliverOnLane?.(lane, add.frame), true);
    assert.deepEqual(await gw.answer(1, add.requestId), { kind: FrameKind.RESPONSE, body: { total: 5 } });
    assert.equal(gw.link.stats.framesOut, framesOut + 1, 'counted as a message toward the engine');
    // A lane is checked where it comes back: only this link's own, not another gateway's, not any object.
    const other = new FakeGateway(localLinks.connect('engine-t', 'gw-other'), 'gw-other');
    await other.start();
    assert.equal(other.link.deliverOnLane?.(lane, gw.frame('add', { n: 100 }).frame), false, "another link's lane");
    assert.equal(gw.link.deliverOnLane?.({}, gw.frame('add', { n: 100 }).frame), false, 'not a lane the engine gave');
    await other.close();

    // A local travel: the lane follows the connection and takes its frames to the new scene.
    const asked = await gw.request(1, 'travel', { to: 'arena:2' });
    assert.equal(asked.kind, FrameKind.RESPONSE);
    const travel = decodeTravelBody((await gw.waitFor((m) => m.type === EngineToGateway.TRAVEL && m.channel === 1)).body);
    await c.coordinator.placement.ensure('arena:2');
    gw.link.send(GatewayToEngine.TRAVEL_OUT, 1, encodeTravelOutBody({ to: travel.to, arrival: travel.arrival, local: true }));
    await gw.waitFor((m) => m.type === EngineToGateway.JOINED && m.channel === 1);
    const where = gw.frame('where', {});
    assert.equal(gw.link.deliverOnLane?.(lane, where.frame), true);
    const there = await gw.answer(1, where.requestId);
    assert.deepEqual([there.kind, (there.body as { sceneId: string; total: number }).sceneId, (there.body as { total: number }).total], [FrameKind.RESPONSE, 'arena:2', 5]);

    // Left: the lane refuses, and the frame sent on the link instead is answered as not joined.
    gw.leave(1);
    const late = gw.frame('add', { n: 1 });
    assert.equal(gw.link.deliverOnLane?.(lane, late.frame), false);
    gw.link.send(GatewayToEngine.CLIENT_FRAME, 1, late.frame);
    const refused = await gw.answer(1, late.requestId);
    assert.deepEqual([refused.kind, (refused.body as { code: string }).code], [FrameKind.ERROR, ErrorCodes.ENG_ERR_NOT_JOINED]);
    assert.equal(gw.link.lane?.(1), null, 'no lane for a connection that left');
  } finally {
    await gw.close();
    await c.close();
  }
});

test('a scene crash: the lane refuses from the moment the gateway is told, and carries the frames again once the player is back in the restarted scene', async () => {
  const { c, gw } = await startLaneCluster('lanes-crash', 50);
  try {
    await gw.join(1, 'frank');
    const lane = gw.link.lane?.(1) ?? null;
    assert.ok(lane !== null);
    await gw.request(1, 'crash', {});
    await gw.waitFor((m) => m.type === EngineToGateway.SCENE_CRASHED && m.channel === 1, 10_000);
    assert.equal(gw.link.deliverOnLane?.(lane, gw.frame('add', { n: 1 }).frame), false, 'refused while the scene restarts: the frame goes on the link, where the engine holds it');
    await gw.waitFor((m) => m.type === EngineToGateway.TO_CLIENT && m.channel === 1 && readFrameHeader(m.body)?.opcode === CORE_PUSH.SceneRestarted, 10_000);
    const add = gw.frame('add', { n: 2 });
    assert.equal(gw.link.deliverOnLane?.(lane, add.frame), true, 'the same connection, joined to the restarted scene');
    assert.equal((await gw.answer(1, add.requestId)).kind, FrameKind.RESPONSE);
  } finally {
    await gw.close();
    await c.close();
  }
});

test('a player taken over by a new connection: the old connection\'s frames are answered as not joined on its lane as on the link, until its LEAVE; the new connection has its own lane', async () => {
  const { c, gw } = await startLaneCluster('lanes-replaced');
  try {
    await gw.join(1, 'gina');
    const old = gw.link.lane?.(1) ?? null;
    assert.ok(old !== null);
    // The same player on a second connection to the same scene: it takes the hot data over, the first is kicked.
    await gw.join(2, 'gina');
    await gw.waitFor((m) => m.type === EngineToGateway.KICK && m.channel === 1);
    const code = (m: { kind: number; body: unknown }): string | null => (m.kind === FrameKind.ERROR ? (m.body as { code: string }).code : null);
    const onLane = gw.frame('add', { n: 1 });
    assert.equal(gw.link.deliverOnLane?.(old, onLane.frame), true, 'still a connection of this link until the gateway says LEAVE');
    assert.equal(code(await gw.answer(1, onLane.requestId)), ErrorCodes.ENG_ERR_NOT_JOINED);
    const onLink = gw.frame('add', { n: 1 });
    gw.link.send(GatewayToEngine.CLIENT_FRAME, 1, onLink.frame);
    assert.equal(code(await gw.answer(1, onLink.requestId)), ErrorCodes.ENG_ERR_NOT_JOINED, 'the same answer on the link');
    gw.leave(1);
    assert.equal(gw.link.deliverOnLane?.(old, gw.frame('add', { n: 1 }).frame), false, 'gone once it left');
    assert.equal(gw.link.lane?.(1), null);

    const lane = gw.link.lane?.(2) ?? null;
    assert.ok(lane !== null && lane !== old);
    const add = gw.frame('add', { n: 4 });
    assert.equal(gw.link.deliverOnLane?.(lane, add.frame), true);
    assert.deepEqual(await gw.answer(2, add.requestId), { kind: FrameKind.RESPONSE, body: { total: 4 } }, 'the old frames changed nothing');
  } finally {
    await gw.close();
    await c.close();
  }
});

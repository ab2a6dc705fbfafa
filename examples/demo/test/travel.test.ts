/**
 * Scene travel end to end on the embedded cluster (one engine: a same-engine travel): the demo's
 * `travel` route and its portals move a player between `world:1` and `world:2` on the same
 * socket, with the SceneChanged push, the hot data kept, the arrival point used, inputs sent
 * during the switch applied once in the target, and a later login put back in the target.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ErrorCodes } from '@gos/schema';
import WebSocket from 'ws';
import { GameClient, login } from '@gos/client';
import { waitFor } from '@gos/testing';
import { createApi, protocol } from '../src/generated/protocol.js';
import { PORTALS } from '../src/portals.js';
import { joinAs, startCluster, tempDir, uniqueName } from './helpers.js';

let dir: Awaited<ReturnType<typeof tempDir>>;
before(async () => {
  dir = await tempDir();
});
after(async () => {
  await dir.remove();
});

test('travel: same socket, SceneChanged, data kept, arrival used, inputs during the switch applied once in the target; login returns there', async () => {
  const cluster = await startCluster(join(dir.path, 'travel.db'));
  try {
    const name = uniqueName('trav');
    const a = await joinAs(cluster.url, name);
    const changes: Array<{ from: string; to: string }> = [];
    a.client.onPush('SceneChanged', (c) => changes.push(c));
    // In the order they arrive: SceneChanged must come before the new scene's first push.
    const pushes: string[] = [];
    a.client.onPush('SceneChanged', (c) => pushes.push(`SceneChanged ${c.to}`));
    a.client.onPush('Welcome', (w) => pushes.push(`Welcome ${w.sceneId}`));
    const before = await a.api.whoami({});
    assert.equal(before.sceneId, 'world:1');
    // world:1's Welcome came before the answer to whoami: only what the travel brings is kept.
    pushes.length = 0;
    // A few moves first: they change the data the target must see.
    let seq = 0;
    for (let i = 0; i < 3; i++) await a.api.move({ seq: ++seq, x: before.x + 5 * (i + 1), y: before.y });
    const moved = await a.api.whoami({});

    const answer = await a.api.travel({ sceneId: 'world:2', x: 300, y: 400 });
    assert.deepEqual(answer, { from: 'world:1', to: 'world:2' });
    // Sent right behind the travel: held by the gateway during the switch, applied in world:2 once.
    const during = a.api.move({ seq: ++seq, x: 305, y: 400 });
    const where = a.api.whoami({});
    assert.equal((await during).ack, seq);
    assert.equal((await where).sceneId, 'world:2', 'a request sent during the switch is answered by the target');
    await waitFor(() => changes.length === 1, { timeoutMs: 5000, message: 'the SceneChanged push' });
    assert.deepEqual(changes, [{ from: 'world:1', to: 'world:2' }]);
    const after = await a.api.whoami({});
    assert.deepEqual([after.sceneId, after.x, after.y], ['world:2', 305, 400], 'arrival at (300, 400), then the move sent during the switch');
    assert.deepEqual(pushes, ['SceneChanged world:2', 'Welcome world:2']);
    assert.equal(a.client.state, 'open');

    // A travel nowhere is refused by the scene and the player stays.
    await assert.rejects(a.api.travel({ sceneId: 'world:99', x: 1, y: 1 }), { code: ErrorCodes.ENG_ERR_TRAVEL });
    assert.equal((await a.api.whoami({})).sceneId, 'world:2');
    await a.client.close();

    // The saved record names world:2: a new login (the gateway's default is world:1) goes back there.
    await waitFor(async () => (await cluster.store.playerScene(a.accountId)) === 'world:2', { timeoutMs: 5000, message: 'the saved scene' });
    const auth = await login(cluster.url, name, 'correct-horse-1');
    const again = new GameClient({ url: auth.gateway, token: auth.token, protocol, WebSocket, reconnect: { enabled: false } });
    await again.connect();
    const there = await createApi(again).whoami({});
    assert.deepEqual([there.sceneId, there.x, there.y], ['world:2', 305, 400]);
    assert.notDeepEqual([moved.x, moved.y], [there.x, there.y]);
    await again.close();
  } finally {
    await cluster.close();
  }
});

test('walking into a portal travels; each exit point lies outside the portal of the map it leads to', async () => {
  const cluster = await startCluster(join(dir.path, 'portal.db'));
  try {
    const a = await joinAs(cluster.url, uniqueName('portal'));
    const changes: string[] = [];
    a.client.onPush('SceneChanged', (c) => changes.push(`${c.from}>${c.to}`));
    const east = PORTALS.find((p) => p.sceneId === 'world:1')!;
    const west = PORTALS.find((p) => p.sceneId === 'world:2')!;
    // Into world:2 next to its portal (a new scene allows a first step of up to 60 units).
    await a.api.travel({ sceneId: 'world:2', x: west.x + 40, y: west.y });
    await waitFor(() => changes.length === 1, { timeoutMs: 5000, message: 'the travel to world:2' });
    // One step into world:2's portal: back in world:1 at its exit.
    await a.api.move({ seq: 1, x: west.x, y: west.y });
    await waitFor(() => changes.length === 2, { timeoutMs: 5000, message: 'the portal to world:1' });
    const back = await a.api.whoami({});
    assert.deepEqual([back.sceneId, back.x, back.y], [west.to, west.exit.x, west.exit.y]);
    // And into world:1's portal from there.
    await a.api.move({ seq: 1, x: east.x, y: east.y });
    await waitFor(() => changes.length === 3, { timeoutMs: 5000, message: 'the portal to world:2' });
    const there = await a.api.whoami({});
    assert.deepEqual([there.sceneId, there.x, there.y], [east.to, east.exit.x, east.exit.y]);
    assert.deepEqual(changes, ['world:1>world:2', 'world:2>world:1', 'world:1>world:2']);
    await a.client.close();
  } finally {
    await cluster.close();
  }
});

test('a target that cannot start refuses the travel: the player stays and plays on, the scene is told', async () => {
  // One scene slot: world:1 takes it, world:2 cannot start (ENG_ERR_FULL).
  const cluster = await startCluster(join(dir.path, 'full.db'), { scenesPerWorker: 1 });
  try {
    const a = await joinAs(cluster.url, uniqueName('full'));
    const notices: string[] = [];
    a.client.onPush('ChatLine', (l) => notices.push(l.text));
    const changes: unknown[] = [];
    a.client.onPush('SceneChanged', (c) => changes.push(c));
    const before = await a.api.whoami({});
    // (Inputs held meanwhile and refused with GW_ERR_TRAVEL_FAILED: travel-processes.test.ts,
    // where the target is paused so that the travel lasts; here it fails within a millisecond.)
    await a.api.travel({ sceneId: 'world:2', x: 1, y: 1 });
    await waitFor(() => notices.includes(`cannot go to world:2: ${ErrorCodes.ENG_ERR_FULL}`), { timeoutMs: 5000, message: 'the scene to learn why' });
    const after = await a.api.whoami({});
    assert.deepEqual([after.sceneId, after.x, after.y], ['world:1', before.x, before.y]);
    assert.deepEqual(changes, []);
    // And it plays on there.
    assert.equal((await a.api.move({ seq: 2, x: before.x + 2, y: before.y })).ack, 2);
    await a.client.close();
  } finally {
    await cluster.close();
  }
});

/**
 * Pushes to a player wherever it plays (`ctx.sendTo`, the demo's `whisper` route) with real
 * processes on real etcd, Redis and MariaDB: two engines, two gateways; a whisper crosses
 * engines and gateways through the presence the gateways keep with the sessions in Redis,
 * follows a player who travelled, and reports an offline player as not delivered.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { readStatus } from '@gos/cluster';
import { waitFor } from '@gos/testing';
import { guestPlayer, testCluster, loadPublished } from './cluster-helpers.js';

const cluster = await testCluster({ leaseTtlSeconds: 2, persistIntervalMs: 500 });
after(async () => {
  await cluster.cleanup();
});

/**
 * A small CCU cap: a scene and its players weigh enough that the next scene goes to the other
 * engine. The leader's score adds each engine's thread utilisation (0–1), which on a busy CI
 * machine can differ by more than 0.1: at a cap of 10, one scene (weight 10) outweighs it.
 */
const ENGINE_ENV = { GOS_ENGINE_CAPACITY: '10' };

async function hostOf(sceneId: string): Promise<string | undefined> {
  return (await readStatus(cluster.config)).placements.find((p) => p.sceneId === sceneId)?.engineId;
}

test('a whisper reaches a player on another engine through another gateway, follows it through a travel, and says when it is offline', { timeout: 120_000 }, async () => {
  cluster.start('coordinator', 'coordinator-1');
  cluster.start('engine', 'engine-1', ENGINE_ENV);
  cluster.start('engine', 'engine-2', ENGINE_ENV);
  await Promise.all(cluster.members.map((m) => m.ready));
  const urls = await Promise.all([cluster.start('gateway', 'gateway-1'), cluster.start('gateway', 'gateway-2')].map(async (g) => String((await g.ready)['http'])));
  const a = await guestPlayer(urls[0]!);
  const b = await guestPlayer(urls[1]!);
  const heard = { a: [] as string[], b: [] as string[] };
  a.client.onPush('Whisper', (w) => heard.a.push(`${w.fromId}:${w.text}`));
  b.client.onPush('Whisper', (w) => heard.b.push(`${w.fromId}:${w.text}`));
  const aId = (await a.api.whoami({})).playerId;
  const bId = (await b.api.whoami({})).playerId;

  // b goes to world:2, which lands on the engine world:1 is not on (by the loads it published).
  await loadPublished(cluster.config, 'world:1', 2);
  const changed = new Promise<void>((resolve) => b.client.onPush('SceneChanged', () => resolve()));
  await b.api.travel({ sceneId: 'world:2', x: 200, y: 200 });
  await changed;
  const [h1, h2] = [await hostOf('world:1'), await hostOf('world:2')];
  assert.ok(h1 !== undefined && h2 !== undefined && h1 !== h2, `world:1 on ${String(h1)}, world:2 on ${String(h2)}: two engines`);

  assert.deepEqual(await a.api.whisper({ to: bId, text: 'psst' }), { delivered: true });
  await waitFor(() => heard.b.length === 1, { timeoutMs: 5000, message: "b's whisper" });
  assert.deepEqual(heard.b, [`${aId}:psst`]);
  // And back, the other way round; five sent at once arrive in the order they were sent.
  const back5 = await Promise.all([1, 2, 3, 4, 5].map((i) => b.api.whisper({ to: aId, text: `back ${i}` })));
  assert.deepEqual(back5, [1, 2, 3, 4, 5].map(() => ({ delivered: true })));
  await waitFor(() => heard.a.length === 5, { timeoutMs: 5000, message: "a's whispers" });
  assert.deepEqual(heard.a, [1, 2, 3, 4, 5].map((i) => `${bId}:back ${i}`));

  // b travels back to world:1: the whisper follows it there.
  const back = new Promise<void>((resolve) => b.client.onPush('SceneChanged', () => resolve()));
  await b.api.travel({ sceneId: 'world:1', x: 300, y: 300 });
  await back;
  assert.deepEqual(await a.api.whisper({ to: bId, text: 'same map now' }), { delivered: true });
  await waitFor(() => heard.b.length === 2, { timeoutMs: 5000, message: "b's second whisper" });

  // Nobody by that id, and b once it has left: not delivered, and no error.
  assert.deepEqual(await a.api.whisper({ to: 'no-such-player', text: 'hello?' }), { delivered: false });
  await b.client.close();
  await waitFor(async () => !(await a.api.whisper({ to: bId, text: 'still there?' })).delivered, { timeoutMs: 10_000, message: 'b offline', intervalMs: 100 });
  assert.equal(heard.b.length, 2);
  await a.client.close();
});

/**
 * Scene travel across engines with real processes on real etcd, Redis and MariaDB: a travel to a
 * scene on the other engine, then each engine killed with SIGKILL in the middle of a travel (the
 * target paused first so that the travel stops half-way). The player always ends in one scene,
 * with its last saved data, on the same socket.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { readStatus } from '@gos/cluster';
import { ErrorCodes } from '@gos/schema';
import { createStore } from '@gos/store';
import { waitFor } from '@gos/testing';
import { guestPlayer, loadPublished, testCluster } from './cluster-helpers.js';

const LEASE_TTL_SECONDS = 2;
const MYSQL = process.env['GOS_TEST_MYSQL_URL'] ?? 'mysql://gos:gos@127.0.0.1:3306/gos_test';
const cluster = await testCluster({ leaseTtlSeconds: LEASE_TTL_SECONDS, persistIntervalMs: 500 });
const store = createStore({ kind: 'mysql', url: MYSQL });
await store.start();
after(async () => {
  await store.close();
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

test('travel to a scene on another engine, then SIGKILL of the target and of the source mid-travel: always one scene, same socket', { timeout: 180_000 }, async () => {
  cluster.start('coordinator', 'coordinator-1');
  const engines = [cluster.start('engine', 'engine-1', ENGINE_ENV), cluster.start('engine', 'engine-2', ENGINE_ENV)];
  await Promise.all([...cluster.members.map((m) => m.ready)]);
  const gateway = cluster.start('gateway', 'gateway-1');
  const baseUrl = String((await gateway.ready)['http']);
  const a = await guestPlayer(baseUrl);
  const changes: Array<{ from: string; to: string }> = [];
  a.client.onPush('SceneChanged', (c) => changes.push(c));
  const notices: string[] = [];
  a.client.onPush('ChatLine', (l) => notices.push(l.text));

  // 1. A travel across engines.
  assert.equal((await a.api.whoami({})).sceneId, 'world:1');
  const source = await hostOf('world:1');
  assert.ok(source !== undefined);
  await loadPublished(cluster.config, 'world:1', 1);
  await a.api.travel({ sceneId: 'world:2', x: 200, y: 200 });
  const during = a.api.move({ seq: 1, x: 210, y: 200 });
  assert.equal((await during).ack, 1);
  await waitFor(() => changes.length === 1, { timeoutMs: 10_000, message: 'SceneChanged to world:2' });
  const target = await hostOf('world:2');
  assert.ok(target !== undefined && target !== source, `world:1 on ${source}, world:2 on ${String(target)}: two engines`);
  const there = await a.api.whoami({});
  assert.deepEqual([there.sceneId, there.x, there.y], ['world:2', 210, 200]);
  assert.equal(await store.playerScene(a.auth.accountId), 'world:2');

  // 2. The target (world:1's engine) paused, so the travel back waits for its seat; then killed.
  const victim1 = engines.find((e) => e.id === source)!;
  victim1.signal('SIGSTOP');
  await a.api.travel({ sceneId: 'world:1', x: 500, y: 500 });
  const held = a.api.move({ seq: 2, x: 215, y: 200 }).then(
    () => 'ok',
    (err: { code?: string; retryable?: boolean }) => `${err.code}:${String(err.retryable)}`,
  );
  victim1.signal('SIGKILL');
  // The held input is refused (retryable), the scene's travel() rejects (the demo says so), the player stays.
  assert.equal(await held, `${ErrorCodes.GW_ERR_TRAVEL_FAILED}:true`);
  await waitFor(() => notices.some((t) => t.startsWith('cannot go to world:1')), { timeoutMs: 10_000, message: "the demo's notice of the failed travel" });
  const stayed = await a.api.whoami({});
  assert.deepEqual([stayed.sceneId, stayed.x, stayed.y], ['world:2', 210, 200]);
  assert.equal(changes.length, 1);
  assert.deepEqual(a.closes, []);

  // 3. A third engine; it is paused so the travel to world:1 (placed there now) waits; the source
  // (world:2's engine) is killed: the player resumes in world:2, its scene, from its last save.
  const engine3 = cluster.start('engine', 'engine-3', ENGINE_ENV);
  await engine3.ready;
  const saved = await a.api.move({ seq: 3, x: 230, y: 200 });
  await waitFor(
    async () => Math.fround(((await store.loadPlayer(a.auth.accountId))?.data as { x?: number } | undefined)?.x ?? NaN) === saved.x,
    { timeoutMs: 10_000, message: 'a periodic save of the last move', intervalMs: 50 },
  );
  // world:1's placement leaves the killed engine (its lease expires): the next travel places it anew.
  await waitFor(async () => (await hostOf('world:1')) !== source, { timeoutMs: 15_000, message: 'world:1 released from the killed engine' });
  const victim2 = engines.find((e) => e.id === target)!;
  engine3.signal('SIGSTOP');
  await a.api.travel({ sceneId: 'world:1', x: 500, y: 500 });
  victim2.signal('SIGKILL');
  engine3.signal('SIGCONT');
  await waitFor(() => a.resumed.length === 1, { timeoutMs: (LEASE_TTL_SECONDS + 25) * 1000, message: 'SceneResumed after the source was killed' });
  assert.equal(a.resumed[0]!.sceneId, 'world:2');
  const resumed = await a.api.whoami({});
  assert.deepEqual([resumed.sceneId, resumed.x, resumed.y], ['world:2', saved.x, saved.y], 'in its scene, with its last saved data');
  assert.equal(changes.length, 1, 'no SceneChanged: the travel did not happen');
  assert.deepEqual(a.closes, [], 'the same socket throughout');
  await a.client.close();
});

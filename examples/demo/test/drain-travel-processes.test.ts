/**
 * An engine drained while one of its players travels to a scene on another engine, with real
 * processes on real etcd, Redis and MariaDB (issue 14's "a drain while a player travels"): the
 * target is paused so that the travel waits half-way, the source is stopped with SIGTERM (its
 * scene moves live to a third engine), then the target wakes up. The player ends in one scene,
 * on the same socket, with the data it had.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { readStatus } from '@gos/cluster';
import { waitFor } from '@gos/testing';
import { guestPlayer, hostOf, loadPublished, testCluster, testStore } from './cluster-helpers.js';

const cluster = await testCluster({ leaseTtlSeconds: 5, persistIntervalMs: 500 });
const store = await testStore();
after(async () => {
  await store.close();
  await cluster.cleanup();
});

/** A small CCU cap: a scene and its players weigh enough that the next scene goes to another engine. */
const ENGINE_ENV = { GOS_ENGINE_CAPACITY: '10' };


test('an engine drained while its player travels to another engine: one scene at the end, same socket, data kept', { timeout: 180_000 }, async () => {
  cluster.start('coordinator', 'coordinator-1');
  cluster.start('engine', 'engine-1', ENGINE_ENV);
  cluster.start('engine', 'engine-2', ENGINE_ENV);
  await Promise.all(cluster.members.map((m) => m.ready));
  const baseUrl = String((await cluster.start('gateway', 'gateway-1').ready)['http']);
  const a = await guestPlayer(baseUrl);
  const b = await guestPlayer(baseUrl);
  await loadPublished(cluster.config, 'world:1', 2);
  const sourceId = await hostOf(cluster.config, 'world:1');
  // b opens world:2 on the other engine; then a third engine, empty, to take world:1 in the drain.
  const bMoved = new Promise<void>((resolve) => b.client.onPush('SceneChanged', () => resolve()));
  await b.api.travel({ sceneId: 'world:2', x: 300, y: 300 });
  await bMoved;
  const targetId = await hostOf(cluster.config, 'world:2');
  assert.ok(sourceId !== undefined && targetId !== undefined && sourceId !== targetId, `world:1 on ${String(sourceId)}, world:2 on ${String(targetId)}`);
  const engine3 = cluster.start('engine', 'engine-3', ENGINE_ENV);
  await engine3.ready;
  const last = await a.api.move({ seq: 1, x: 120, y: 130 });

  // The travel waits half-way on the paused target; the source drains meanwhile.
  const target = cluster.members.find((m) => m.id === targetId)!;
  const draining = cluster.members.find((m) => m.id === sourceId)!;
  const changes: Array<{ from: string; to: string }> = [];
  a.client.onPush('SceneChanged', (c) => changes.push(c));
  target.signal('SIGSTOP');
  await a.api.travel({ sceneId: 'world:2', x: 400, y: 400 });
  draining.signal('SIGTERM');
  target.signal('SIGCONT');
  assert.equal(await draining.exited, 0, 'the drained engine stops cleanly');

  // One scene, the same socket: wherever it ended, whoami answers from there and the store agrees.
  let seen = '';
  const me = await waitFor(
    async () => {
      const w = await a.api.whoami({}).catch((err: unknown) => String(err));
      const saved = await store.playerScene(a.auth.accountId);
      seen = `whoami: ${typeof w === 'string' ? w : w.sceneId}; the store: ${String(saved)}; closes: ${a.closes.join('; ')}`;
      return typeof w !== 'string' && saved === w.sceneId ? w : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 200, message: 'the player settled in one scene' },
  ).catch((err: unknown) => {
    throw new Error(`${String(err)} (${seen})\n${cluster.logs().split('\n').slice(-60).join('\n')}`);
  });
  console.log(`drain during travel: the player ended in ${me.sceneId} (SceneChanged ${changes.length}, SceneMoved ${a.moved.length}, SceneResumed ${a.resumed.length})`);
  assert.deepEqual(a.closes, [], 'the same socket throughout');
  if (me.sceneId === 'world:2') {
    assert.deepEqual(changes, [{ from: 'world:1', to: 'world:2' }]);
    assert.deepEqual([me.x, me.y], [400, 400], 'arrived at the exit point');
  } else {
    assert.equal(me.sceneId, 'world:1');
    assert.deepEqual(changes, []);
    assert.deepEqual([me.x, me.y], [last.x, last.y], 'its last move kept');
  }
  // Every engine's figures agree: the two players in one scene each.
  await waitFor(
    async () => {
      const members = (await readStatus(cluster.config)).members.filter((m) => m.role === 'engine');
      return members.reduce((n, m) => n + Object.values(m.sceneLoads ?? {}).reduce((s, p) => s + p, 0), 0) === 2;
    },
    { timeoutMs: 15_000, intervalMs: 200, message: 'two players seated in the whole cluster, once each' },
  );
  assert.equal((await b.api.whoami({})).sceneId, 'world:2');
  assert.doesNotMatch(cluster.logs(), /write refused: fenced/);
  await a.client.close();
  await b.client.close();
});

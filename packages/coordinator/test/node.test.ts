import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { waitFor } from '@gos/testing';
import { CoordinatorNode, MemoryCoordinator, type Coordinator, type PlacementRecord } from '../src/index.js';

test('coordinator nodes: one leads; when it leaves, the next one takes over', async () => {
  const c = new MemoryCoordinator();
  await c.start();
  const a = new CoordinatorNode({ id: 'coordinator-1', coordinator: c });
  const b = new CoordinatorNode({ id: 'coordinator-2', coordinator: c });
  try {
    await a.start();
    await b.start();
    await new Promise((r) => setImmediate(r));
    assert.equal(c.election.leader(), 'coordinator-1');
    assert.equal(a.isLeader, true);
    assert.equal(b.isLeader, false);
    assert.deepEqual(c.membership.list('coordinator').map((m) => m.id).sort(), ['coordinator-1', 'coordinator-2']);
    await a.close();
    await new Promise((r) => setImmediate(r));
    assert.equal(c.election.leader(), 'coordinator-2');
    assert.deepEqual(c.membership.list('coordinator').map((m) => m.id), ['coordinator-2']);
  } finally {
    await a.close();
    await b.close();
    await c.close();
  }
});

test('the leader releases a placement whose engine stayed missing past the grace, and only that one', async () => {
  const mem = new MemoryCoordinator();
  await mem.start();
  await mem.membership.register({ id: 'engine-live', role: 'engine', address: 'x:1', capacity: 100 });
  // Placements as etcd may hold them after a restart: one on a live engine, one on an engine
  // that died while no coordinator was watching.
  const placements = new Map<string, PlacementRecord>([
    ['world:1', { sceneId: 'world:1', sceneType: 'world', engineId: 'engine-live', epoch: 7 }],
    ['world:2', { sceneId: 'world:2', sceneType: 'world', engineId: 'engine-dead', epoch: 8 }],
  ]);
  const released: string[] = [];
  const coordinator = {
    membership: mem.membership,
    election: mem.election,
    moves: mem.moves,
    drains: mem.drains,
    placement: {
      list: () => [...placements.values()],
      lookup: (sceneId: string) => placements.get(sceneId),
      scenesOf: (engineId: string) => [...placements.values()].filter((r) => r.engineId === engineId),
      requests: () => [],
      watchRequests: () => () => {},
      release: (sceneId: string, epoch: number) => {
        released.push(`${sceneId}@${epoch}`);
        return Promise.resolve(placements.delete(sceneId));
      },
    },
  } as unknown as Coordinator;
  const leader = new CoordinatorNode({ id: 'coordinator-1', coordinator, orphanGraceMs: 1000, reconcileIntervalMs: 60_000 });
  const follower = new CoordinatorNode({ id: 'coordinator-2', coordinator, orphanGraceMs: 1000, reconcileIntervalMs: 60_000 });
  try {
    await leader.start();
    await follower.start();
    await new Promise((r) => setImmediate(r));
    assert.equal(leader.isLeader, true);
    const t0 = 1_000_000;
    await follower.reconcile(t0);
    await follower.reconcile(t0 + 5000);
    assert.deepEqual(released, [], 'a follower changes nothing');
    await leader.reconcile(t0); // first seen missing
    await leader.reconcile(t0 + 999); // still within the grace
    assert.deepEqual(released, []);
    await leader.reconcile(t0 + 1000);
    assert.deepEqual(released, ['world:2@8']);
    assert.deepEqual([...placements.keys()], ['world:1']);
  } finally {
    await leader.close();
    await follower.close();
    await mem.close();
  }
});

test("the leader publishes its scale decision with its member record and in its metrics; a follower does not", async () => {
  const c = new MemoryCoordinator();
  await c.start();
  const registries = [new Registry(), new Registry()];
  const a = new CoordinatorNode({ id: 'coordinator-1', coordinator: c, rebalance: false, metrics: registries[0] });
  const b = new CoordinatorNode({ id: 'coordinator-2', coordinator: c, rebalance: false, metrics: registries[1] });
  try {
    await a.start();
    await b.start();
    await waitFor(() => a.isLeader, { timeoutMs: 2000, message: 'coordinator-1 to lead' });
    const engine = await c.membership.register({ id: 'engine-1', role: 'engine', address: 'x:1', capacity: 1000 });
    await c.membership.register({ id: 'gateway-1', role: 'gateway', address: 'ws://g/ws', capacity: 1000 });
    await a.reconcile();
    await b.reconcile();
    assert.deepEqual(c.membership.get('coordinator-1')?.desired, { engines: 1, gateways: 1 });
    assert.equal(c.membership.get('coordinator-2')?.desired, undefined);
    // 1,500 players on one engine of 1,000: 1500 / 700 → 3 engines.
    await engine.setLoad(1500);
    await a.reconcile();
    await waitFor(() => c.membership.get('coordinator-1')?.desired?.engines === 3, { timeoutMs: 2000, message: 'the new decision published' });
    const scraped = await registries[0]!.metrics();
    assert.match(scraped, /gos_coordinator_desired_members\{role="engine"\} 3/);
    assert.match(scraped, /gos_coordinator_desired_members\{role="gateway"\} 1/);
    assert.doesNotMatch(await registries[1]!.metrics(), /gos_coordinator_desired_members\{/, 'a follower reports none');
  } finally {
    await a.close();
    await b.close();
    await c.close();
  }
});

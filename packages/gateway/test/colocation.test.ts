/**
 * Co-location-aware login: in a cluster of `gateway+engine` processes, a player is sent to the
 * gateway in the process of the engine that hosts (or will host) its scene, so its frames
 * never cross TCP; a group's gateway still comes first, and a full one is passed over.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CoordinatorNode, MemoryCoordinator, type MemberInfo } from '@gos/coordinator';
import { coreProtocol, silentLogger } from '@gos/schema';
import { SqliteStore } from '@gos/store';
import { LocalLinks } from '@gos/link';
import { Gateway, MemorySessionStore } from '../src/index.js';
import { chooseGateways } from '../src/gateway-choice.js';

const gw = (id: string, load: number, localEngineId?: string): MemberInfo => ({
  id,
  role: 'gateway',
  address: `ws://${id}/ws`,
  load,
  capacity: 10,
  startedAt: 0,
  ...(localEngineId === undefined ? {} : { localEngineId }),
});
const ids = (ms: readonly MemberInfo[]): string[] => ms.map((m) => m.id);

test('chooseGateways: the gateway beside the scene first while it has room, after the group\'s own', async () => {
  const sessions = new MemorySessionStore();
  try {
    const live = [gw('g1', 1), gw('g2', 6, 'e2'), gw('g3', 3)];
    assert.deepEqual(ids(await chooseGateways(sessions, live, 'g1', null, silentLogger, 'g2')), ['g2', 'g1', 'g3'], 'beside the scene, though busier');
    assert.deepEqual(ids(await chooseGateways(sessions, [gw('g1', 1), gw('g2', 10, 'e2')], 'g1', null, silentLogger, 'g2')), ['g1', 'g2'], 'full: passed over');
    // A group's first login takes the gateway beside its scene, and the group keeps it.
    assert.deepEqual(ids(await chooseGateways(sessions, live, 'g1', 'guild', silentLogger, 'g2')), ['g2', 'g1', 'g3']);
    assert.equal(await sessions.groupGateway('guild'), 'g2');
    // Its next player, whose scene is beside g3, still goes where the group is.
    assert.deepEqual(ids(await chooseGateways(sessions, live, 'g1', 'guild', silentLogger, 'g3')), ['g2', 'g1', 'g3']);
  } finally {
    await sessions.close();
  }
});

test('login sends a player to the gateway whose process hosts the engine of its scene, placing the scene first if need be', async () => {
  const coordinator = new MemoryCoordinator();
  const leader = new CoordinatorNode({ id: 'coordinator-1', coordinator });
  const store = new SqliteStore({ file: ':memory:' });
  const sessions = new MemorySessionStore();
  await Promise.all([coordinator.start(), store.start(), sessions.start()]);
  await leader.start();
  // Gateway b lives beside engine-b (its process serves it in-process); engine-b is the only engine.
  const local = new LocalLinks();
  const stopServing = local.serve('engine-b', () => {});
  const engine = await coordinator.membership.register({ id: 'engine-b', role: 'engine', address: '127.0.0.1:9', capacity: 100 });
  const shared = { clusterSecret: 'colocation-test-secret-16', coordinator, store, sessions, protocol: coreProtocol, port: 0, capacity: 10, scryptCost: 1024, defaultSceneId: 'world:7' };
  const a = new Gateway({ ...shared, gatewayId: 'gw-a' });
  const b = new Gateway({ ...shared, gatewayId: 'gw-b', localLinks: local });
  try {
    await a.start();
    await b.start();
    assert.equal(coordinator.membership.get('gw-b')?.localEngineId, 'engine-b', 'b publishes the engine beside it');
    assert.equal(coordinator.membership.get('gw-a')?.localEngineId, undefined);
    assert.equal(coordinator.placement.lookup('world:7'), undefined, 'nothing placed yet');
    const res = await fetch(`${a.httpUrl}/v1/auth/guest`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { gateway: string; gateways: string[] };
    assert.equal(body.gateway, b.publicUrl, 'asked a, told b: b is beside the scene\'s engine');
    assert.deepEqual(body.gateways, [b.publicUrl, a.publicUrl]);
    assert.equal(coordinator.placement.lookup('world:7')?.engineId, 'engine-b', 'placed during the login');
  } finally {
    await a.close();
    await b.close();
    await engine.leave();
    await stopServing();
    await leader.close();
    await sessions.close();
    await store.close();
    await coordinator.close();
  }
});

/**
 * Where a draining gateway sends its clients (planMoves): the other live gateways that are not
 * draining, each client to the one with the most room left counting those already sent there.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryCoordinator, type MemberInfo } from '@gos/coordinator';
import { coreProtocol } from '@gos/schema';
import { SqliteStore } from '@gos/store';
import { waitFor } from '@gos/testing';
import { planMoves } from '../src/drain.js';
import { Gateway, MemorySessionStore } from '../src/index.js';

function gateway(id: string, load: number, capacity: number, draining?: boolean): MemberInfo {
  return { id, role: 'gateway', address: `ws://127.0.0.1/${id}`, load, capacity, startedAt: 0, ...(draining === undefined ? {} : { draining }) };
}

test('clients are spread over the other gateways by room left; the draining gateway and other draining ones get none', () => {
  const gateways = [gateway('gateway-1', 10, 100), gateway('gateway-2', 0, 100), gateway('gateway-3', 40, 100), gateway('gateway-4', 0, 100, true)];
  const plan = planMoves(gateways, 'gateway-1', 60);
  const count = (id: string): number => plan.filter((g) => g.id === id).length;
  assert.equal(plan.length, 60);
  assert.equal(count('gateway-1'), 0, 'not itself');
  assert.equal(count('gateway-4'), 0, 'not a draining one');
  // gateway-2 fills up to gateway-3's load first, then they share: 50 + 10 → 50/50.
  assert.equal(count('gateway-2'), 50);
  assert.equal(count('gateway-3'), 10);
});

test('capacity counts: a gateway twice as large takes twice the clients; no other gateway, no plan', () => {
  const plan = planMoves([gateway('gateway-1', 0, 100), gateway('gateway-2', 0, 200), gateway('gateway-3', 0, 100)], 'gateway-1', 30);
  assert.equal(plan.filter((g) => g.id === 'gateway-2').length, 20);
  assert.equal(plan.filter((g) => g.id === 'gateway-3').length, 10);
  assert.deepEqual(planMoves([gateway('gateway-1', 5, 100), gateway('gateway-2', 0, 100, true)], 'gateway-1', 5), []);
});

test('a drain request for this gateway instance is acted on once; one for an earlier instance, or another gateway, is not', async () => {
  const coordinator = new MemoryCoordinator();
  const store = new SqliteStore({ file: ':memory:' });
  const sessions = new MemorySessionStore();
  await Promise.all([coordinator.start(), store.start(), sessions.start()]);
  let asked = 0;
  const gateway = new Gateway({ gatewayId: 'gw-a', clusterSecret: 'drain-request-test-secret', coordinator, store, sessions, protocol: coreProtocol, port: 0, scryptCost: 1024, onDrainRequest: () => asked++ });
  try {
    // Put before it started (its supervisor restarted it): an old instance's request.
    await coordinator.drains.request({ memberId: 'gw-a', startedAt: 1, requestedBy: 'test' });
    await gateway.start();
    const me = coordinator.membership.get('gw-a')!;
    await coordinator.drains.request({ memberId: 'gw-b', startedAt: me.startedAt, requestedBy: 'test' });
    assert.equal(asked, 0, 'neither an earlier instance\'s request nor another gateway\'s');
    await coordinator.drains.request({ memberId: 'gw-a', startedAt: me.startedAt, requestedBy: 'test' });
    await waitFor(() => asked === 1, { timeoutMs: 2000, message: 'the request acted on' });
    await coordinator.drains.request({ memberId: 'gw-a', startedAt: me.startedAt, requestedBy: 'test again' });
    assert.equal(asked, 1, 'once');
  } finally {
    await gateway.close();
    await Promise.all([store.close(), sessions.close(), coordinator.close()]);
  }
});

test('without onDrainRequest, a drain request drains the gateway itself (it leaves the cluster)', async () => {
  const coordinator = new MemoryCoordinator();
  const store = new SqliteStore({ file: ':memory:' });
  const sessions = new MemorySessionStore();
  await Promise.all([coordinator.start(), store.start(), sessions.start()]);
  const gateway = new Gateway({ gatewayId: 'gw-a', clusterSecret: 'drain-request-test-secret', coordinator, store, sessions, protocol: coreProtocol, port: 0, scryptCost: 1024 });
  try {
    await gateway.start();
    const me = coordinator.membership.get('gw-a')!;
    await coordinator.drains.request({ memberId: 'gw-a', startedAt: me.startedAt, requestedBy: 'test' });
    await waitFor(() => coordinator.membership.get('gw-a') === undefined, { timeoutMs: 5000, message: 'the gateway drained and left' });
  } finally {
    await gateway.close();
    await Promise.all([store.close(), sessions.close(), coordinator.close()]);
  }
});

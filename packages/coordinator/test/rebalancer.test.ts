/**
 * The leader's rebalancing of gateways: one partial drain request at a time, as many clients as
 * even the busiest and the idlest out and never more, nothing once balanced, a request nobody
 * clears dropped after a while.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '@gos/schema';
import { MemoryCoordinator, planGatewayShare, type DrainRequest, type MemberInfo } from '../src/index.js';
import { Rebalancer } from '../src/rebalancer.js';

const gw = (id: string, load: number, capacity = 1000, draining?: boolean): MemberInfo => ({
  id,
  role: 'gateway',
  address: `ws://${id}/ws`,
  load,
  capacity,
  startedAt: 0,
  ...(draining === undefined ? {} : { draining }),
});

test('planGatewayShare: the busiest sends the idlest what evens them out; balanced, small, lone or draining: nothing', () => {
  const o = { tolerance: 0.15, minClients: 20 };
  assert.deepEqual(planGatewayShare([gw('g1', 300), gw('g2', 0)], o), { from: 'g1', to: 'g2', count: 150 });
  // Capacity counts: g2 twice as large ends at twice the clients.
  assert.deepEqual(planGatewayShare([gw('g1', 300, 1000), gw('g2', 0, 2000)], o), { from: 'g1', to: 'g2', count: 200 });
  // Three gateways: the busiest to the idlest.
  assert.deepEqual(planGatewayShare([gw('g1', 200), gw('g2', 600), gw('g3', 100)], o), { from: 'g2', to: 'g3', count: 250 });
  assert.equal(planGatewayShare([gw('g1', 160), gw('g2', 150)], o), null, 'within the tolerance');
  assert.equal(planGatewayShare([gw('g1', 30), gw('g2', 0)], o), null, 'fewer than minClients to move');
  assert.equal(planGatewayShare([gw('g1', 300)], o), null, 'one gateway');
  assert.equal(planGatewayShare([gw('g1', 300), gw('g2', 0, 1000, true)], o), null, 'the idle one drains');
  // Never more than the target has room for (a gateway's capacity is soft: g1 is over it).
  assert.deepEqual(planGatewayShare([gw('g1', 3000, 1000), gw('g2', 0, 100)], o), { from: 'g1', to: 'g2', count: 100 });
});

/**
 * A memory coordinator with gateway-1 (400 sockets) and gateway-2 (none), both of capacity
 * 1000, a rebalancer on it, and every drain request put, as watched.
 */
async function twoGateways(o: { gatewayPauseMs: number }) {
  const c = new MemoryCoordinator();
  await c.start();
  const seen: DrainRequest[] = [];
  c.drains.watch((r) => seen.push(r));
  const rebalancer = new Rebalancer({ coordinator: c, logger: silentLogger, gatewayPauseMs: o.gatewayPauseMs, staleMs: 30_000 });
  const g1 = await c.membership.register({ id: 'gateway-1', role: 'gateway', address: 'ws://g1/ws', capacity: 1000 });
  const g2 = await c.membership.register({ id: 'gateway-2', role: 'gateway', address: 'ws://g2/ws', capacity: 1000 });
  await g1.setLoad(400);
  return { c, seen, rebalancer, g1, g2 };
}

test('the rebalancer asks for one gateway share at a time and nothing more once the gateways are even', async () => {
  const { c, seen, rebalancer, g1, g2 } = await twoGateways({ gatewayPauseMs: 1000 });
  try {
    let now = 100_000;
    await rebalancer.pass(now);
    assert.equal(seen.length, 1);
    assert.deepEqual(seen[0]!.share, { count: 200, to: 'gateway-2' });
    assert.equal(seen[0]!.startedAt, g1.info.startedAt, 'names the running instance');
    // Not cleared yet: nothing new, however uneven.
    await rebalancer.pass((now += 5000));
    assert.equal(seen.length, 1);
    // The gateway told its clients and cleared the request; they moved.
    await c.drains.clear('gateway-1', g1.info.startedAt);
    await g1.setLoad(205);
    await g2.setLoad(195);
    for (let i = 0; i < 10; i++) await rebalancer.pass((now += 2000));
    assert.equal(seen.length, 1, 'balanced: no further share, no share back');
  } finally {
    await c.close();
  }
});

test('a gateway share nobody clears is dropped after staleMs, then asked again; an operator\'s drain pauses sharing', async () => {
  const { c, seen, rebalancer, g1, g2 } = await twoGateways({ gatewayPauseMs: 1000 });
  try {
    // The real clock: requests carry the time they were put.
    let now = Date.now();
    await rebalancer.pass(now);
    await rebalancer.pass((now += 29_000));
    assert.equal(c.drains.list().length, 1, 'still waiting');
    await rebalancer.pass((now += 2000));
    assert.deepEqual(c.drains.list(), [], 'dropped');
    await rebalancer.pass((now += 500));
    assert.equal(seen.length, 1, 'the pause first');
    await rebalancer.pass((now += 1000));
    assert.equal(seen.length, 2, 'asked again');
    // An operator's drain of a gateway: the leader leaves the gateways alone meanwhile.
    await c.drains.clear('gateway-1', g1.info.startedAt);
    await c.drains.request({ memberId: 'gateway-2', startedAt: g2.info.startedAt, requestedBy: 'ops' });
    for (let i = 0; i < 5; i++) await rebalancer.pass((now += 31_000));
    assert.equal(seen.filter((r) => r.share !== undefined).length, 2);
  } finally {
    await c.close();
  }
});

test('a node that has just become leader waits a pause before its first move or share, and counts a share already out as under way', async () => {
  const { c, seen, rebalancer, g1 } = await twoGateways({ gatewayPauseMs: 10_000 });
  try {
    // The last leader's share is still out.
    await c.drains.request({ memberId: 'gateway-1', startedAt: g1.info.startedAt, requestedBy: 'leader', share: { count: 200, to: 'gateway-2' } });
    let now = 100_000;
    rebalancer.tookLead(now);
    await rebalancer.pass((now += 1000));
    assert.equal(seen.length, 1, 'not asked again while it is out');
    await c.drains.clear('gateway-1', g1.info.startedAt);
    await rebalancer.pass((now += 1000));
    await rebalancer.pass((now += 5000));
    assert.equal(seen.length, 1, 'a pause after it, the loads catching up');
    await rebalancer.pass((now += 6000));
    assert.equal(seen.length, 2, 'then the gateways are evened out again');
  } finally {
    await c.close();
  }
});

test('a drain request naming an instance that is gone (the tool that asked was killed) is dropped after staleMs and does not block sharing', async () => {
  const { c, seen, rebalancer, g1 } = await twoGateways({ gatewayPauseMs: 1000 });
  try {
    await c.drains.request({ memberId: 'gateway-2', startedAt: 5, requestedBy: 'ops (killed)' });
    // The real clock: requests carry the time they were put.
    const now = Date.now();
    await rebalancer.pass(now + 1000);
    assert.ok(c.drains.list().some((r) => r.startedAt === 5), 'kept a while');
    assert.equal(seen.filter((r) => r.share !== undefined).length, 1, 'and it does not block the gateways\' rebalancing');
    await c.drains.clear('gateway-1', g1.info.startedAt);
    await rebalancer.pass(now + 31_000);
    assert.deepEqual(c.drains.list(), [], 'then dropped');
  } finally {
    await c.close();
  }
});

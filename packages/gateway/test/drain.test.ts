/**
 * Where a draining gateway sends its clients (planMoves): the other live gateways that are not
 * draining, each client to the one with the most room left counting those already sent there.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MemberInfo } from '@gos/coordinator';
import { planMoves } from '../src/drain.js';

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

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rankGateways, type MemberInfo } from '../src/index.js';

const gw = (id: string, load: number, capacity = 100): MemberInfo => ({ id, role: 'gateway', address: `ws://${id}/ws`, load, capacity, startedAt: 0 });

test('gateways: least loaded relative to capacity first, full ones last, self first among equals', () => {
  const ranked = rankGateways([gw('g-busy', 80), gw('g-full', 100), gw('g-big', 300, 1000), gw('g-idle', 10), gw('g-over', 150)], 'g-busy');
  assert.deepEqual(ranked.map((m) => m.id), ['g-idle', 'g-big', 'g-busy', 'g-full', 'g-over']);
  assert.deepEqual(rankGateways([gw('g-a', 0), gw('g-b', 0), gw('g-self', 0)], 'g-self').map((m) => m.id), ['g-self', 'g-a', 'g-b']);
  assert.deepEqual(rankGateways([]), []);
});

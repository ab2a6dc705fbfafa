import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hasRoom, pickLeastLoadedEngine, rankGateways, type MemberInfo } from '../src/index.js';

const gw = (id: string, load: number, capacity = 100): MemberInfo => ({ id, role: 'gateway', address: `ws://${id}/ws`, load, capacity, startedAt: 0 });

test('gateways: least loaded relative to capacity first, full ones last, self first among equals', () => {
  const ranked = rankGateways([gw('g-busy', 80), gw('g-full', 100), gw('g-big', 300, 1000), gw('g-idle', 10), gw('g-over', 150)], 'g-busy');
  assert.deepEqual(ranked.map((m) => m.id), ['g-idle', 'g-big', 'g-busy', 'g-full', 'g-over']);
  assert.deepEqual(rankGateways([gw('g-a', 0), gw('g-b', 0), gw('g-self', 0)], 'g-self').map((m) => m.id), ['g-self', 'g-a', 'g-b']);
  assert.deepEqual(rankGateways([]), []);
});

test('gateways: the group\'s gateway first when it is alive and under its capacity, the rest in the usual order', () => {
  const ids = (ranked: MemberInfo[]) => ranked.map((m) => m.id);
  const members = [gw('g-busy', 80), gw('g-full', 100), gw('g-idle', 10), gw('g-mid', 50)];
  // Alive and under capacity: first, even though others are less loaded.
  assert.deepEqual(ids(rankGateways(members, 'g-idle', 'g-busy')), ['g-busy', 'g-idle', 'g-mid', 'g-full']);
  // Already first, or not given: the usual order.
  assert.deepEqual(ids(rankGateways(members, 'g-idle', 'g-idle')), ['g-idle', 'g-mid', 'g-busy', 'g-full']);
  assert.deepEqual(ids(rankGateways(members, 'g-idle')), ['g-idle', 'g-mid', 'g-busy', 'g-full']);
  // At capacity (load = capacity) or over: ignored, the least loaded under capacity leads.
  assert.deepEqual(ids(rankGateways(members, 'g-mid', 'g-full')), ['g-idle', 'g-mid', 'g-busy', 'g-full']);
  assert.deepEqual(ids(rankGateways([...members, gw('g-over', 150)], undefined, 'g-over')), ['g-idle', 'g-mid', 'g-busy', 'g-full', 'g-over']);
  // Gone (not a live member): ignored.
  assert.deepEqual(ids(rankGateways(members, undefined, 'g-dead')), ['g-idle', 'g-mid', 'g-busy', 'g-full']);
  // One below capacity still has room; the input is not reordered.
  assert.deepEqual(ids(rankGateways([gw('g-a', 0), gw('g-b', 99)], 'g-a', 'g-b')), ['g-b', 'g-a']);
  assert.deepEqual(ids(members), ['g-busy', 'g-full', 'g-idle', 'g-mid']);
  assert.deepEqual(rankGateways([], 'g-a', 'g-a'), []);
  assert.equal(hasRoom(gw('g', 99)), true);
  assert.equal(hasRoom(gw('g', 100)), false);
  assert.equal(hasRoom(gw('g', 0, 0)), false, 'a capacity of 0 takes nobody');
});

const engine = (id: string, load: number, capacity = 1000, utilisation?: number): MemberInfo => ({
  id,
  role: 'engine',
  address: `${id}:1`,
  load,
  capacity,
  startedAt: 0,
  ...(utilisation === undefined ? {} : { utilisation }),
});

test('engines: least loaded relative to capacity (scenes weigh in), busy threads avoided, engines at their cap never picked', () => {
  const none = (): number => 0;
  assert.equal(pickLeastLoadedEngine([engine('e-busy', 500), engine('e-light', 100)], none).id, 'e-light');
  // Relative to capacity: 300 of 6000 is lighter than 100 of 1000.
  assert.equal(pickLeastLoadedEngine([engine('e-small', 100), engine('e-large', 300, 6000)], none).id, 'e-large');
  // Scenes already placed count (10 players each) while their players arrive.
  assert.equal(pickLeastLoadedEngine([engine('e-a', 0), engine('e-b', 0)], (id) => (id === 'e-a' ? 3 : 0)).id, 'e-b');
  // Same players, but one engine's threads are busy.
  assert.equal(pickLeastLoadedEngine([engine('e-hot', 100, 1000, 0.8), engine('e-cool', 100, 1000, 0.1)], none).id, 'e-cool');
  // At its cap: never, however light otherwise.
  assert.equal(pickLeastLoadedEngine([engine('e-full', 10, 10), engine('e-room', 900)], none).id, 'e-room');
  assert.throws(() => pickLeastLoadedEngine([engine('e-full', 10, 10)], none), { code: 'CRD_ERR_NO_ENGINE', message: /CCU cap/ });
  assert.throws(() => pickLeastLoadedEngine([], none), { code: 'CRD_ERR_NO_ENGINE', message: /no engine is alive/ });
  // A draining engine (stopping gracefully) takes nothing new.
  const draining: MemberInfo = { ...engine('e-stopping', 0), draining: true };
  assert.equal(pickLeastLoadedEngine([draining, engine('e-busy', 900)], none).id, 'e-busy');
  assert.throws(() => pickLeastLoadedEngine([draining], none), { code: 'CRD_ERR_NO_ENGINE', message: /all stopping/ });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SCALE_DEFAULTS, decideScale, hasRoom, pickLeastLoadedEngine, planRebalance, rankGateways, type MemberInfo } from '../src/index.js';

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
  // Idle engines: utilisation noise (under the floor) does not outweigh the scenes already placed.
  assert.equal(pickLeastLoadedEngine([engine('e-a', 0, 6000, 0.03), engine('e-b', 0, 6000, 0.09)], (id) => (id === 'e-a' ? 3 : 0)).id, 'e-b');
  assert.equal(pickLeastLoadedEngine([engine('e-a', 0, 6000, 0.02), engine('e-b', 0, 6000, 0.2)], (id) => (id === 'e-a' ? 1 : 0)).id, 'e-b');
  // At its cap: never, however light otherwise.
  assert.equal(pickLeastLoadedEngine([engine('e-full', 10, 10), engine('e-room', 900)], none).id, 'e-room');
  assert.throws(() => pickLeastLoadedEngine([engine('e-full', 10, 10)], none), { code: 'CRD_ERR_NO_ENGINE', message: /CCU cap/ });
  assert.throws(() => pickLeastLoadedEngine([], none), { code: 'CRD_ERR_NO_ENGINE', message: /no engine is alive/ });
  // A draining engine (stopping gracefully) takes nothing new.
  const draining: MemberInfo = { ...engine('e-stopping', 0), draining: true };
  assert.equal(pickLeastLoadedEngine([draining, engine('e-busy', 900)], none).id, 'e-busy');
  assert.throws(() => pickLeastLoadedEngine([draining], none), { code: 'CRD_ERR_NO_ENGINE', message: /all stopping/ });
});

const engineOf = (id: string, sceneLoads: Record<string, number>, capacity = 1000, extra: Partial<MemberInfo> = {}): MemberInfo => ({
  id,
  role: 'engine',
  address: '127.0.0.1:9',
  load: Object.values(sceneLoads).reduce((a, b) => a + b, 0),
  capacity,
  startedAt: 0,
  sceneLoads,
  ...extra,
});

test('rebalancing: the busiest engine gives its largest scene that does not overshoot to the idlest; balanced or tiny gaps are left alone', () => {
  const o = { tolerance: 0.15, minPlayers: 10, movable: () => true };
  // A new engine beside a busy one: the biggest scene that leaves the busy one still busier.
  assert.deepEqual(planRebalance([engineOf('e1', { a: 40, b: 30, c: 20, d: 10 }), engineOf('e2', {})], o), { sceneId: 'a', from: 'e1', to: 'e2', players: 40 });
  // Then the rest of the gap (60 against 40: 10 would even them).
  assert.deepEqual(planRebalance([engineOf('e1', { b: 30, c: 20, d: 10 }), engineOf('e2', { a: 40 })], o), { sceneId: 'd', from: 'e1', to: 'e2', players: 10 });
  // Within ±15 % of the mean: nothing.
  assert.equal(planRebalance([engineOf('e1', { a: 55 }), engineOf('e2', { b: 50 })], o), null);
  // Fewer than minPlayers to move to even them out: nothing, however uneven.
  assert.equal(planRebalance([engineOf('e1', { a: 6, b: 6, c: 6 }), engineOf('e2', {})], o), null);
  // Unequal capacities: e1 (capacity 100) at 90 %, e2 (1000) at 9.5 %, though e2 has more players: ~73 should move.
  assert.deepEqual(planRebalance([engineOf('e1', { a: 40, b: 30, c: 20 }, 100), engineOf('e2', { d: 95 }, 1000)], o), { sceneId: 'a', from: 'e1', to: 'e2', players: 40 });
  // Every scene would overshoot (one big scene): nothing; moving it would only swap the roles.
  assert.equal(planRebalance([engineOf('e1', { big: 100 }), engineOf('e2', {})], o), null);
  // Capacity counts: e2 is twice as big, so it should take two thirds of the players.
  assert.deepEqual(planRebalance([engineOf('e1', { a: 30, b: 30, c: 30 }, 1000), engineOf('e2', {}, 2000)], o), { sceneId: 'a', from: 'e1', to: 'e2', players: 30 });
  // A draining engine neither gives nor takes; a scene that may not move is passed over.
  assert.equal(planRebalance([engineOf('e1', { a: 40, b: 30 }), engineOf('e2', {}, 1000, { draining: true })], o), null);
  assert.equal(planRebalance([engineOf('e1', { a: 40, b: 30 }), engineOf('e2', {})], { ...o, movable: (id) => id !== 'b' }), null);
  // A small engine takes a share to its size: 35 players against capacities 100 and 20 even out at ~6 moved.
  assert.deepEqual(planRebalance([engineOf('e1', { a: 30, b: 5 }, 100), engineOf('e2', {}, 20)], { ...o, minPlayers: 1 }), { sceneId: 'b', from: 'e1', to: 'e2', players: 5 });
  assert.equal(planRebalance([engineOf('e1', { a: 30, b: 5 }, 100), engineOf('e2', {}, 20)], o), null, 'under minPlayers to move');
  // Three engines: the busiest to the idlest.
  // (e2 has 60, e3 has 5: 27.5 players would even them; its 45-player scene would overshoot.)
  assert.deepEqual(planRebalance([engineOf('e1', { a: 20, b: 20 }), engineOf('e2', { c: 45, d: 15 }), engineOf('e3', { e: 5 })], o), { sceneId: 'd', from: 'e2', to: 'e3', players: 15 });
  assert.equal(planRebalance([engineOf('e1', { a: 40 })], o), null, 'one engine: nothing to even out');
});


test('scale decision: enough engines for players at 70 % of their caps or threads 70 % busy, whichever needs more; gateways by sockets; never below the minimums', () => {
  const engine = (id: string, load: number, utilisation = 0, draining?: boolean): MemberInfo => ({ id, role: 'engine', address: `${id}:1`, load, capacity: 1000, startedAt: 0, utilisation, ...(draining === undefined ? {} : { draining }) });
  // Idle: the minimums.
  assert.deepEqual(decideScale([engine('e1', 0), gw('g1', 0)], SCALE_DEFAULTS), { engines: 1, gateways: 1, players: 0, engineCapacity: 1000, threadLoad: 0, sockets: 0, gatewayCapacity: 100 });
  // 1,500 players on two engines of 1,000: 1500 / 700 → 3 engines. 150 sockets on gateways of 100: 150 / 70 → 3.
  const busy = decideScale([engine('e1', 900), engine('e2', 600), gw('g1', 100), gw('g2', 50)], SCALE_DEFAULTS);
  assert.equal(busy.engines, 3);
  assert.equal(busy.gateways, 3);
  // Few players but busy threads (a CPU-heavy game): 1.7 threads busy / 0.7 → 3 engines.
  assert.equal(decideScale([engine('e1', 10, 0.9), engine('e2', 10, 0.8)], SCALE_DEFAULTS).engines, 3);
  // A draining engine's players count (they move to the others); its capacity does not stand for the next one.
  const draining = decideScale([engine('e1', 300), { ...engine('e2', 500, 0, true), capacity: 10 }], { ...SCALE_DEFAULTS, minEngines: 2 });
  assert.equal(draining.players, 800);
  assert.equal(draining.engineCapacity, 1000);
  assert.equal(draining.engines, 2, '800 / 700 → 2, and the minimum is 2');
  // Load shrinking: fewer wanted than running.
  assert.equal(decideScale([engine('e1', 100), engine('e2', 100), engine('e3', 0)], SCALE_DEFAULTS).engines, 1);
  // A stricter target asks for more.
  assert.equal(decideScale([engine('e1', 500)], { ...SCALE_DEFAULTS, targetUtilisation: 0.4 }).engines, 2);
});

test('rebalancing by thread time: when threads make an engine the busiest, the scene whose move lowers it most without overshooting', () => {
  const o = { tolerance: 0.15, minPlayers: 10, movable: () => true };
  // Few players each, but e1's two threads are 80 % busy: a (0.6 of a thread) and b (0.9), c (0.1).
  const busy = engineOf('e1', { a: 10, b: 10, c: 10 }, 1000, { utilisation: 0.8, threads: 2, sceneCosts: { a: 0.6, b: 0.9, c: 0.1 } });
  const idle = engineOf('e2', { d: 30 }, 1000, { utilisation: 0.05, threads: 2, sceneCosts: { d: 0.05 } });
  // b would leave e1 at 0.35 and e2 at 0.5: overshoot. a leaves e1 at 0.5, e2 at 0.35: the best that does not.
  assert.deepEqual(planRebalance([busy, idle], o), { sceneId: 'a', from: 'e1', to: 'e2', players: 10 });
  // The same players on both and no thread time above the floor: balanced, nothing moves.
  assert.equal(planRebalance([engineOf('e1', { a: 30 }, 1000, { utilisation: 0.2, threads: 2, sceneCosts: { a: 0.4 } }), engineOf('e2', { b: 30 }, 1000, { utilisation: 0, threads: 2 })], o), null);
  // A gain under MIN_THREAD_GAIN is noise: nothing.
  const slightly = engineOf('e1', { a: 10 }, 1000, { utilisation: 0.3, threads: 4, sceneCosts: { a: 0.1 } });
  assert.equal(planRebalance([slightly, engineOf('e2', {}, 1000, { utilisation: 0, threads: 4 })], o), null);
  // One costly scene that would only swap the roles: nothing.
  assert.equal(planRebalance([engineOf('e1', { a: 5 }, 1000, { utilisation: 0.9, threads: 1, sceneCosts: { a: 0.9 } }), engineOf('e2', {}, 1000, { utilisation: 0, threads: 1 })], o), null);
  // After the move (e1 at 0.5, e2 at 0.35 with a): within the tolerance of the mean? 0.5 vs mean 0.425 → 17 % above: c (0.1 → e1 0.45, e2 0.4) is next, then balanced.
  const after = [engineOf('e1', { b: 10, c: 10 }, 1000, { utilisation: 0.5, threads: 2, sceneCosts: { b: 0.9, c: 0.1 } }), engineOf('e2', { a: 10, d: 30 }, 1000, { utilisation: 0.35, threads: 2, sceneCosts: { a: 0.6, d: 0.05 } })];
  assert.deepEqual(planRebalance(after, o), { sceneId: 'c', from: 'e1', to: 'e2', players: 10 });
  const settled = [engineOf('e1', { b: 10 }, 1000, { utilisation: 0.45, threads: 2, sceneCosts: { b: 0.9 } }), engineOf('e2', { a: 10, c: 10, d: 30 }, 1000, { utilisation: 0.4, threads: 2, sceneCosts: { a: 0.6, c: 0.1, d: 0.05 } })];
  assert.equal(planRebalance(settled, o), null, 'within the tolerance: no move back');
});

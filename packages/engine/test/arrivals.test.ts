import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryCoordinator } from '@gos/coordinator';
import { ARRIVAL_TIMEOUT_MS, PACED_WAVE_PLAYERS, WaveArrivals } from '../src/arrivals.js';

async function twoEngines() {
  const coordinator = new MemoryCoordinator();
  const { membership } = coordinator;
  const a = await membership.register({ id: 'engine-a', role: 'engine', address: '127.0.0.1:1', capacity: 1000, load: 40 });
  const b = await membership.register({ id: 'engine-b', role: 'engine', address: '127.0.0.1:2', capacity: 1000, load: 0 });
  return { coordinator, membership, a, b };
}

test('a wave has arrived once each engine it went to reports its players on top of its load before', async () => {
  const { coordinator, membership, a, b } = await twoEngines();
  const arrivals = new WaveArrivals(membership);
  arrivals.sent('engine-a', 100);
  arrivals.sent('engine-b', 10);
  let settled: boolean | undefined;
  const waiting = arrivals.arrived(ARRIVAL_TIMEOUT_MS).then((ok) => (settled = ok));
  await a.setLoad(100); // 40 before: 60 of the 100 are in
  await b.setLoad(10);
  await Promise.resolve();
  assert.equal(settled, undefined, 'engine-a still lacks players');
  // 90 % of the players sent is enough: a few may close their sockets on the way.
  await a.setLoad(130);
  assert.equal(await waiting, true);
  await coordinator.close();
});

test('two scenes of a wave sent to one engine add up', async () => {
  const { coordinator, membership, a } = await twoEngines();
  const arrivals = new WaveArrivals(membership);
  arrivals.sent('engine-a', 50);
  arrivals.sent('engine-a', 50);
  let settled: boolean | undefined;
  const waiting = arrivals.arrived(ARRIVAL_TIMEOUT_MS).then((ok) => (settled = ok));
  await a.setLoad(90); // 40 + 50: one scene's players only
  await Promise.resolve();
  assert.equal(settled, undefined);
  await a.setLoad(140);
  assert.equal(await waiting, true);
  await coordinator.close();
});

test('an engine that left or drains itself is not waited for', async () => {
  const { coordinator, membership, a, b } = await twoEngines();
  const arrivals = new WaveArrivals(membership);
  arrivals.sent('engine-a', 100);
  arrivals.sent('engine-b', 100);
  const waiting = arrivals.arrived(ARRIVAL_TIMEOUT_MS);
  await a.leave();
  await b.publish({ draining: true });
  assert.equal(await waiting, true);
  await coordinator.close();
});

test('players that never show up end the wait at its timeout, or at once with no time left (the drain past its deadline): not arrived', async () => {
  const { coordinator, membership } = await twoEngines();
  const arrivals = new WaveArrivals(membership);
  arrivals.sent('engine-b', 100);
  assert.equal(await arrivals.arrived(20), false);
  assert.equal(await arrivals.arrived(-5), false);
  assert.equal(await arrivals.arrived(0), false);
  await coordinator.close();
});

test('a wave that sent no players (empty scenes, or none moved) has arrived at once', async () => {
  const { coordinator, membership } = await twoEngines();
  const arrivals = new WaveArrivals(membership);
  arrivals.sent('engine-b', 0);
  assert.equal(await arrivals.arrived(ARRIVAL_TIMEOUT_MS), true);
  await coordinator.close();
});

test('a small scene arrives without the one player that closed its socket on the way', async () => {
  const { coordinator, membership, b } = await twoEngines();
  const arrivals = new WaveArrivals(membership);
  arrivals.sent('engine-b', 3);
  const waiting = arrivals.arrived(ARRIVAL_TIMEOUT_MS);
  await b.setLoad(2);
  assert.equal(await waiting, true);
  await coordinator.close();
});

test('only a crowded wave is waited for: the players it sent, over all its targets, add up to PACED_WAVE_PLAYERS', async () => {
  const { coordinator, membership } = await twoEngines();
  const small = new WaveArrivals(membership);
  small.sent('engine-a', PACED_WAVE_PLAYERS / 2);
  small.sent('engine-b', PACED_WAVE_PLAYERS / 2 - 1);
  assert.equal(small.paced, false);
  const crowded = new WaveArrivals(membership);
  crowded.sent('engine-a', PACED_WAVE_PLAYERS / 2);
  crowded.sent('engine-b', PACED_WAVE_PLAYERS / 2);
  assert.equal(crowded.paced, true);
  await coordinator.close();
});

test('a target that loses players of its own meanwhile keeps the wave waiting until its timeout', async () => {
  const { coordinator, membership, a } = await twoEngines();
  const arrivals = new WaveArrivals(membership);
  arrivals.sent('engine-a', 100);
  const waiting = arrivals.arrived(30);
  await a.setLoad(120); // the 100 arrived, but 20 of the 40 it had before left
  assert.equal(await waiting, false);
  await coordinator.close();
});

import { test, mock, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { TickSchedule, type TickClock } from '../src/worker/tick-schedule.js';

const TICK_MS = 100;
/** The clock's time 0, ms since the epoch. */
const ORIGIN = 1_700_000_000_000;

/** A schedule on a test clock and mocked timers; `advance(ms)` moves both, 1 ms at a time. */
function harness(t: TestContext, players: { n: number }) {
  mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => mock.timers.reset());
  let now = 0;
  const clock: TickClock = { now: () => now, origin: ORIGIN };
  const ticks: Array<{ at: number; elapsed: number }> = [];
  const schedule = new TickSchedule(TICK_MS, (at, elapsed) => ticks.push({ at, elapsed }), () => players.n, clock);
  const advance = (ms: number): void => {
    for (let i = 0; i < ms; i++) {
      now++;
      mock.timers.tick(1);
    }
  };
  return { schedule, ticks, advance };
}

test('a scene started afresh ticks one interval after its start, then every interval', (t) => {
  const { schedule, ticks, advance } = harness(t, { n: 0 });
  schedule.start();
  assert.equal(schedule.nextTickAt, ORIGIN + 100);
  advance(350);
  assert.deepEqual(ticks.map((k) => k.at), [100, 200, 300]);
  assert.deepEqual(ticks.map((k) => k.elapsed), [100, 100, 100]);
  schedule.stop();
  advance(200);
  assert.equal(ticks.length, 3, 'no tick once stopped');
  assert.equal(schedule.nextTickAt, ORIGIN + 400, 'the tick that was due next when it stopped');
});

test('moved in live with every player in before the source\'s next tick: the first tick exactly then, then this engine\'s grid', (t) => {
  const players = { n: 0 };
  const { schedule, ticks, advance } = harness(t, players);
  // A source off this engine's grid (its clock 40 ms behind): in step with it first, then on the grid.
  schedule.startInStep(ORIGIN + 60, 3);
  advance(20);
  players.n = 3;
  schedule.playerJoined();
  advance(250);
  assert.deepEqual(ticks.map((k) => k.at), [60, 200]);
  // The first tick's elapsed time spans the move: from the source's last tick, one interval before.
  assert.equal(ticks[0]!.elapsed, 100);
});

test('moved in live, the last player in after the source\'s next tick was due: the first tick as it joins', (t) => {
  const players = { n: 0 };
  const { schedule, ticks, advance } = harness(t, players);
  schedule.startInStep(ORIGIN + 40, 3);
  players.n = 2;
  schedule.playerJoined();
  advance(70);
  assert.equal(ticks.length, 0, 'not before every player is in');
  players.n = 3;
  schedule.playerJoined();
  advance(2);
  // At once (a timer of 0 ms: the next turn of the loop), then back on the interval's timeline.
  assert.equal(ticks.length, 1);
  assert.ok(ticks[0]!.at >= 70 && ticks[0]!.at <= 71, `first tick at ${ticks[0]!.at}`);
  assert.equal(ticks[0]!.elapsed, ticks[0]!.at + 60);
  // Then the grid: the first point at least half an interval on (not 170, a whole interval on).
  advance(130);
  assert.deepEqual(ticks.slice(1).map((k) => k.at), [200]);
});

test('moved in live, a player that never comes: the first tick five intervals after it was due, with whoever is in', (t) => {
  const players = { n: 1 };
  const { schedule, ticks, advance } = harness(t, players);
  schedule.startInStep(ORIGIN + 30, 2);
  schedule.playerJoined();
  advance(529);
  assert.equal(ticks.length, 0);
  advance(2);
  assert.equal(ticks.length, 1);
  assert.ok(ticks[0]!.at >= 530 && ticks[0]!.at <= 531, `first tick at ${ticks[0]!.at}`);
});

test('moved in live long after the source\'s tick was due: the first tick as soon as the players are in', (t) => {
  const players = { n: 2 };
  const { schedule, ticks, advance } = harness(t, players);
  schedule.startInStep(ORIGIN - 250, 2);
  advance(2);
  assert.equal(ticks.length, 1);
  assert.ok(ticks[0]!.at <= 1, `first tick at ${ticks[0]!.at}`);
});

test('stopped while waiting for its players: no tick, and the time it was due is kept', (t) => {
  const players = { n: 0 };
  const { schedule, ticks, advance } = harness(t, players);
  schedule.startInStep(ORIGIN + 50, 5);
  advance(10);
  schedule.stop();
  advance(1000);
  assert.equal(ticks.length, 0);
  assert.equal(schedule.nextTickAt, ORIGIN + 50);
});

test('afterNextTick runs right after the next tick (a live move stops at a tick boundary); not when no tick is coming', (t) => {
  const players = { n: 0 };
  const { schedule, ticks, advance } = harness(t, players);
  assert.equal(schedule.afterNextTick(() => {}, 1000), false, 'not started: no tick coming');
  schedule.start();
  const after: number[] = [];
  advance(30);
  assert.equal(
    schedule.afterNextTick(() => after.push(ticks.length), 1000),
    true,
  );
  advance(69);
  assert.deepEqual(after, []);
  advance(1);
  assert.deepEqual(after, [1], 'called once, after the tick at 100 ran');
  advance(200);
  assert.deepEqual(after, [1], 'once only');
  schedule.stop();
  assert.equal(schedule.afterNextTick(() => {}, 1000), false, 'stopped');
});

test('afterNextTick is refused while a moved-in scene waits for its players (its first tick may be far)', (t) => {
  const { schedule } = harness(t, { n: 0 });
  schedule.startInStep(ORIGIN + 500, 3);
  assert.equal(schedule.afterNextTick(() => {}, 1000), false);
});

test('a hand-over dated ahead of this clock (a source whose clock runs ahead) holds the first tick back one interval at most', (t) => {
  const players = { n: 2 };
  const { schedule, ticks, advance } = harness(t, players);
  schedule.startInStep(ORIGIN + 3000, 2);
  advance(100);
  assert.deepEqual(ticks.map((k) => k.at), [100]);
});

test('afterNextTick is refused when the next tick is further away than allowed (a long tick interval)', (t) => {
  const { schedule } = harness(t, { n: 0 });
  schedule.start();
  assert.equal(schedule.afterNextTick(() => {}, 50), false, 'due in 100 ms, allowed 50');
  assert.equal(schedule.afterNextTick(() => {}, 100), true);
});

test('scenes started at different times tick together, on the grid of the interval since the epoch', (t) => {
  mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => mock.timers.reset());
  // A clock whose time 0 is 37 ms past a multiple of the interval: the grid is the epoch's, not the clock's.
  let now = 0;
  const clock: TickClock = { now: () => now, origin: ORIGIN + 37 };
  const ticks: Array<{ scene: string; at: number }> = [];
  const start = (scene: string): TickSchedule => {
    const s = new TickSchedule(TICK_MS, (at) => ticks.push({ scene, at }), () => 0, clock);
    s.start();
    return s;
  };
  const advance = (ms: number): void => {
    for (let i = 0; i < ms; i++) {
      now++;
      mock.timers.tick(1);
    }
  };
  const a = start('a');
  advance(40);
  const b = start('b');
  assert.equal(a.nextTickAt, ORIGIN + 200, 'the first grid point at least an interval away');
  assert.equal(b.nextTickAt, ORIGIN + 200, 'the same point for a scene started 40 ms later');
  advance(400);
  // Epoch ORIGIN + 200 is this clock's 163.
  assert.deepEqual(ticks.filter((k) => k.scene === 'a').map((k) => k.at), [163, 263, 363]);
  assert.deepEqual(ticks.filter((k) => k.scene === 'b').map((k) => k.at), [163, 263, 363]);
  a.stop();
  b.stop();
});

test('after a long stall the missed ticks are skipped, and the next is back on the grid', (t) => {
  mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => mock.timers.reset());
  let now = 0;
  const clock: TickClock = { now: () => now, origin: ORIGIN };
  const ticks: Array<{ at: number; elapsed: number }> = [];
  const schedule = new TickSchedule(TICK_MS, (at, elapsed) => ticks.push({ at, elapsed }), () => 0, clock);
  schedule.start();
  // The thread is blocked for 730 ms before the first tick's timer can run.
  now = 830;
  mock.timers.tick(830);
  assert.deepEqual(ticks, [{ at: 830, elapsed: 830 }], 'one late tick, not seven back to back');
  assert.equal(schedule.nextTickAt, ORIGIN + 1000, 'the first grid point at least an interval after the late tick');
  for (let i = 0; i < 170; i++) {
    now++;
    mock.timers.tick(1);
  }
  assert.deepEqual(ticks.map((k) => k.at), [830, 1000]);
  schedule.stop();
});

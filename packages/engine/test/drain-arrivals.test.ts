/**
 * A draining engine waits for a crowded wave to arrive before it leaves (arrivals.ts): with a
 * fake gateway on a real link, real worker threads and a real SQLite file, a scene of 100
 * players is moved to an engine that is only a member record, whose published load the test
 * sets as a target engine would once the players are in (or never does).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { EngineToGateway, GatewayToEngine } from '@gos/link';
import { memoryLog, waitFor, type LogLine } from '@gos/testing';
import { ARRIVAL_TIMEOUT_MS, PACED_WAVE_PLAYERS } from '../src/arrivals.js';
import { startCluster } from './helpers.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gos-drain-arrivals-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** An engine running `arena:1` with `players` joined, a target member, and the gateway's side of a move answered. */
async function crowdedScene(name: string, players: number, drainTimeoutMs?: number) {
  const log = memoryLog();
  const c = await startCluster(dir, name, { capacity: 1000, engine: { logger: pino({ level: 'info' }, log.stream), ...(drainTimeoutMs === undefined ? {} : { drainTimeoutMs }) } });
  const target = await c.coordinator.membership.register({ id: 'engine-x', role: 'engine', address: '127.0.0.1:9', capacity: 1000 });
  for (let i = 1; i <= players; i++) await c.gw.join(i, `p${i}`);
  // The gateway's side of a move: hold each player when asked.
  c.gw.link.on('message', (type: number, channel: number, body: Uint8Array) => {
    if (type === EngineToGateway.MIGRATING) c.gw.link.send(GatewayToEngine.MIGRATE_HOLD, channel, body.slice());
  });
  const migrated = (): Promise<unknown> =>
    waitFor(() => c.gw.inbox.filter((m) => m.type === EngineToGateway.MIGRATED).length === players || undefined, {
      timeoutMs: 20_000,
      message: `MIGRATED for each of the ${players} players`,
    });
  const drained = (): LogLine | undefined => log.lines().find((l) => l.msg === 'drained: scenes moved live');
  return { c, target, migrated, drained };
}

test('a drain that moved a crowded scene leaves once the target reports its players', { timeout: 60_000 }, async () => {
  const { c, target, migrated, drained } = await crowdedScene('arrived', PACED_WAVE_PLAYERS);
  try {
    let closed = false;
    const closing = c.engine.close().then(() => (closed = true));
    await migrated();
    assert.equal(c.coordinator.placement.lookup('arena:1')?.engineId, 'engine-x');
    // Every player was sent on, and the target does not count them yet: the engine is still here.
    assert.equal(closed, false);
    assert.ok(c.coordinator.membership.get('engine-t') !== undefined, 'still a member');
    await target.setLoad(PACED_WAVE_PLAYERS);
    await closing;
    assert.equal(c.coordinator.membership.get('engine-t'), undefined, 'left once they arrived');
    const line = drained();
    assert.ok(line !== undefined, 'the drain logged its end');
    assert.equal(line['moved'], 1);
    assert.equal(line['lateWaves'], 0, 'the wave arrived: the wait did not run out');
    await target.leave();
  } finally {
    await c.close();
  }
});

test('a target that never reports the players: the drain waits until its deadline, then leaves', { timeout: 60_000 }, async () => {
  const drainTimeoutMs = 1500;
  const { c, target, migrated, drained } = await crowdedScene('late', PACED_WAVE_PLAYERS, drainTimeoutMs);
  try {
    const closing = c.engine.close();
    await migrated();
    await closing;
    const line = drained();
    assert.ok(line !== undefined, 'the drain logged its end');
    assert.equal(line['moved'], 1);
    assert.equal(line['lateWaves'], 1, 'the wave did not arrive');
    // The wait ran to the drain's deadline (not its own 3 s): what was left of drainTimeoutMs after the move.
    const waited = Number(line['arrivalMs']);
    const total = Number(line['ms']);
    assert.ok(waited > 0 && total >= drainTimeoutMs - 50 && total < ARRIVAL_TIMEOUT_MS, `waited ${waited} ms of a drain of ${total} ms`);
    await target.leave();
  } finally {
    await c.close();
  }
});

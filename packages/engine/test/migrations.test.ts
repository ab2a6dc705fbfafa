/**
 * Live scene migration, the source engine's side (migrations.ts), with a fake gateway on a real
 * link, real worker threads and a real SQLite file: the hold, the freeze and the hand-over of
 * the placement; a move given up when the gateway does not hold in time or the target is not a
 * live engine, the scene running on untouched.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ErrorCodes, FrameKind } from '@gos/schema';
import { EngineToGateway, GatewayToEngine, decodeJoinFailedBody, decodeMigratedBody, decodeMigratingBody, encodeJoinBody, encodeMigratingBody } from '@gos/link';
import { waitFor } from '@gos/testing';
import { startCluster } from './helpers.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gos-migrations-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The saved `total` of a player of the test game. */
async function savedTotal(c: Awaited<ReturnType<typeof startCluster>>, playerId: string): Promise<number | undefined> {
  const data = (await c.store.loadPlayer(playerId))?.data;
  return typeof data === 'object' && data !== null && 'total' in data && typeof data.total === 'number' ? data.total : undefined;
}

test('a move: the gateway holds, frames sent before the hold are handled, everything is saved, the placement moves, the players are sent on', async () => {
  const c = await startCluster(dir, 'move', { engine: { migrateOnClose: false } });
  try {
    // The target: a live engine in the membership (no process needed: the gateway joins it later).
    const target = await c.coordinator.membership.register({ id: 'engine-x', role: 'engine', address: '127.0.0.1:9', capacity: 100 });
    await c.gw.join(1, 'p1');
    await c.gw.join(2, 'p2');
    assert.deepEqual((await c.gw.request(1, 'add', { n: 5 })).body, { total: 5 });
    const before = c.coordinator.placement.lookup('arena:1')!;
    const moving = c.engine.migrateScene('arena:1', 'engine-x');
    // Frames the gateway sends before it holds are handled by the scene before it stops.
    const holding = await c.gw.waitFor((m) => m.type === EngineToGateway.MIGRATING && m.channel === 1);
    c.gw.send(1, 'add', { n: 1 }, 0);
    c.gw.send(1, 'add', { n: 2 }, 0);
    // An answer to another move does not count; the answer to this one does.
    c.gw.link.send(GatewayToEngine.MIGRATE_HOLD, holding.channel, encodeMigratingBody({ move: decodeMigratingBody(holding.body).move + 1000 }));
    c.gw.link.send(GatewayToEngine.MIGRATE_HOLD, holding.channel, holding.body);
    const second = await c.gw.waitFor((m) => m.type === EngineToGateway.MIGRATING && m.channel === 2);
    // Player 2's socket closed meanwhile: its gateway still answers for it.
    c.gw.leave(2);
    c.gw.link.send(GatewayToEngine.MIGRATE_HOLD, 2, second.body);
    const outcome = await moving;
    assert.deepEqual([outcome.sceneId, outcome.from, outcome.to, outcome.players], ['arena:1', 'engine-t', 'engine-x', 1]);
    assert.ok(outcome.epoch > before.epoch, 'a newer epoch');
    const migrated = await c.gw.waitFor((m) => m.type === EngineToGateway.MIGRATED && m.channel === 1);
    assert.deepEqual(decodeMigratedBody(migrated.body), { sceneId: 'arena:1', to: 'engine-x' });
    // Both answers came back before MIGRATED; the hand-over saved them.
    const answers = c.gw.inbox.filter((m) => m.type === EngineToGateway.TO_CLIENT && m.channel === 1 && m.body[0] === FrameKind.RESPONSE);
    assert.equal(answers.length, 2);
    assert.equal(await savedTotal(c, 'p1'), 8);
    const placed = c.coordinator.placement.lookup('arena:1');
    const { handover, ...record } = placed ?? {};
    assert.deepEqual(record, { sceneId: 'arena:1', sceneType: 'arena', engineId: 'engine-x', epoch: outcome.epoch });
    // The hand-over for the target: the one player sent on, and when this engine's next tick was due.
    assert.equal(handover?.players, 1);
    assert.ok(handover !== undefined && Math.abs(handover.nextTickAt - Date.now()) < 60_000, `nextTickAt ${handover?.nextTickAt}`);
    assert.deepEqual(c.engine.sceneIds, []);
    assert.equal(c.engine.stats.players, 0);
    // A join that still comes here is sent on.
    c.gw.link.send(GatewayToEngine.JOIN, 3, encodeJoinBody({ playerId: 'p3', name: 'p3', sceneId: 'arena:1' }));
    const refused = await c.gw.waitFor((m) => m.type === EngineToGateway.JOIN_FAILED && m.channel === 3);
    assert.equal(decodeJoinFailedBody(refused.body).code, ErrorCodes.ENG_ERR_SCENE_MOVED);
    await target.leave();
  } finally {
    await c.close();
  }
});

test('a move is given up when the gateway does not hold in time, or refused for a bad target: the scene runs on', async () => {
  const c = await startCluster(dir, 'abort', { engine: { migrateOnClose: false, migrationHoldTimeoutMs: 300 } });
  try {
    await c.gw.join(1, 'p1');
    assert.deepEqual((await c.gw.request(1, 'add', { n: 5 })).body, { total: 5 });
    const epoch = c.coordinator.placement.lookup('arena:1')!.epoch;
    // No other engine: nowhere to go.
    await assert.rejects(c.engine.migrateScene('arena:1'), { code: ErrorCodes.CRD_ERR_NO_ENGINE });
    await assert.rejects(c.engine.migrateScene('arena:1', 'engine-t'), { code: ErrorCodes.ENG_ERR_MIGRATION, message: /this engine/ });
    await assert.rejects(c.engine.migrateScene('arena:1', 'engine-nope'), { code: ErrorCodes.ENG_ERR_MIGRATION, message: /no such live engine/ });
    await assert.rejects(c.engine.migrateScene('arena:9', 'engine-x'), { code: ErrorCodes.ENG_ERR_MIGRATION, message: /does not run/ });
    assert.equal(c.gw.inbox.filter((m) => m.type === EngineToGateway.MIGRATING).length, 0, 'nobody was asked to hold');
    const target = await c.coordinator.membership.register({ id: 'engine-x', role: 'engine', address: '127.0.0.1:9', capacity: 100 });
    // The gateway never answers MIGRATING.
    await assert.rejects(c.engine.migrateScene('arena:1', 'engine-x'), { code: ErrorCodes.ENG_ERR_MIGRATION, message: /did not hold/ });
    await c.gw.waitFor((m) => m.type === EngineToGateway.MIGRATING && m.channel === 1);
    await c.gw.waitFor((m) => m.type === EngineToGateway.MIGRATE_ABORTED && m.channel === 1);
    assert.deepEqual((await c.gw.request(1, 'add', { n: 1 })).body, { total: 6 }, 'the scene ran on, its data intact');
    assert.deepEqual(c.coordinator.placement.lookup('arena:1'), { sceneId: 'arena:1', sceneType: 'arena', engineId: 'engine-t', epoch });
    assert.deepEqual(c.engine.sceneIds, ['arena:1']);
    // A target that left while the players were held: given up too.
    const moving = c.engine.migrateScene('arena:1', 'engine-x');
    const asked = await c.gw.waitFor((m) => m.type === EngineToGateway.MIGRATING && m.channel === 1);
    await target.leave();
    await waitFor(() => c.coordinator.membership.get('engine-x') === undefined, { timeoutMs: 2000, message: 'engine-x to leave' });
    c.gw.link.send(GatewayToEngine.MIGRATE_HOLD, 1, asked.body);
    await assert.rejects(moving, { code: ErrorCodes.ENG_ERR_MIGRATION, message: /no such live engine/ });
    await c.gw.waitFor((m) => m.type === EngineToGateway.MIGRATE_ABORTED && m.channel === 1);
    assert.deepEqual((await c.gw.request(1, 'add', { n: 1 })).body, { total: 7 });
    assert.equal(c.coordinator.placement.lookup('arena:1')?.engineId, 'engine-t');
  } finally {
    await c.close();
  }
});

test('the scene crashes while its players are held: the move is given up, the scene restarts here, nobody is kicked', async () => {
  const c = await startCluster(dir, 'crash', { persistIntervalMs: 50, engine: { migrateOnClose: false } });
  try {
    const target = await c.coordinator.membership.register({ id: 'engine-x', role: 'engine', address: '127.0.0.1:9', capacity: 100 });
    await c.gw.join(1, 'p1');
    assert.deepEqual((await c.gw.request(1, 'add', { n: 5 })).body, { total: 5 });
    await waitFor(async () => (await savedTotal(c, 'p1')) === 5, { timeoutMs: 5000, message: 'the periodic save' });
    const moving = c.engine.migrateScene('arena:1', 'engine-x');
    const asked = await c.gw.waitFor((m) => m.type === EngineToGateway.MIGRATING && m.channel === 1);
    // Sent before the gateway holds: it reaches the scene, which crashes.
    await c.gw.request(1, 'crash', {});
    await c.gw.waitFor((m) => m.type === EngineToGateway.SCENE_CRASHED && m.channel === 1);
    c.gw.link.send(GatewayToEngine.MIGRATE_HOLD, 1, asked.body);
    await assert.rejects(moving, { code: ErrorCodes.ENG_ERR_MIGRATION, message: /stopped on engine-t while its players were held/ });
    await c.gw.waitFor((m) => m.type === EngineToGateway.MIGRATE_ABORTED && m.channel === 1);
    // Restarted here from its last save; the player plays on.
    await waitFor(async () => (await c.gw.request(1, 'add', { n: 1 })).kind === FrameKind.RESPONSE || undefined, { timeoutMs: 10_000, message: 'the restarted scene to answer' });
    assert.equal(c.gw.inbox.filter((m) => m.type === EngineToGateway.KICK).length, 0, 'nobody kicked');
    assert.equal(c.coordinator.placement.lookup('arena:1')?.engineId, 'engine-t');
    assert.deepEqual(c.engine.sceneIds, ['arena:1']);
    await target.leave();
  } finally {
    await c.close();
  }
});


/**
 * The gateway's side of a live scene migration (migration.ts), against scripted engines on
 * in-process links and a real client socket: frames held from MIGRATING on, the answer carrying
 * the engine's move id, a given-up move sending them to the same engine in order, a finished
 * one joining the scene where it is placed now and sending them there in order (SceneMoved to
 * the client), and a hold that does not outlive a lost engine.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { EngineToGateway, GatewayToEngine, decodeJoinBody, decodeMigratingBody, encodeJoinedBody, encodeMigratedBody, encodeMigratingBody } from '@gos/link';
import { CORE_PUSH, ErrorCodes, FrameFlag, FrameKind, encodeFrame, readFrameHeader } from '@gos/schema';
import { waitFor } from '@gos/testing';
import { Client, ScriptedEngine, act, protocol, startScriptedCluster, type ScriptedCluster } from './scripted-engines.js';

let cluster: ScriptedCluster;
let coordinator: ScriptedCluster['coordinator'];
let sessions: ScriptedCluster['sessions'];
let gateway: ScriptedCluster['gateway'];

before(async () => {
  cluster = await startScriptedCluster({ engines: { 'engine-a': ['world:1'], 'engine-b': [], 'engine-c': ['world:3'] }, defaultSceneId: 'world:1', clusterSecret: 'migration-test-secret-012345' });
  ({ coordinator, sessions, gateway } = cluster);
});

after(() => cluster.close());

const engine = (id: string): ScriptedEngine => cluster.engines.get(id)!;

/** A player joined in `sceneId` on `engineId`: its client and its channel on the links. */
async function joined(name: string, sceneId: string, engineId: string): Promise<{ client: Client; connId: number }> {
  const e = engine(engineId);
  const { session } = await sessions.create({ accountId: name, username: name, sceneId });
  const client = await Client.open(`${gateway.publicUrl}?token=${session.token}&v=${protocol.version}`);
  const join = await e.take((m) => m.type === GatewayToEngine.JOIN && decodeJoinBody(m.body).playerId === name, `${name}'s JOIN`);
  const id = client.act();
  await waitFor(() => e.frames().includes(id) || undefined, { timeoutMs: 5000, message: 'a first request at the engine' });
  e.send(EngineToGateway.TO_CLIENT, join.channel, encodeFrame(FrameKind.RESPONSE, act.id, id, new Uint8Array([id])));
  await waitFor(() => client.got.length > 0 || undefined, { timeoutMs: 5000, message: 'the first answer' });
  e.inbox.length = 0;
  return { client, connId: join.channel };
}

test('a move given up, then one finished: held frames go to the same engine, then to the new one, in order; SceneMoved; the old engine\'s unanswered request refused once', async () => {
  const a = engine('engine-a');
  const b = engine('engine-b');
  const { client, connId } = await joined('m1', 'world:1', 'engine-a');
  const unanswered = client.act();
  await waitFor(() => a.frames().includes(unanswered) || undefined, { timeoutMs: 5000, message: 'the request at engine-a' });

  a.send(EngineToGateway.MIGRATING, connId, encodeMigratingBody({ move: 5 }));
  const hold = await a.take((m) => m.type === GatewayToEngine.MIGRATE_HOLD && m.channel === connId, 'MIGRATE_HOLD');
  assert.deepEqual(decodeMigratingBody(hold.body), { move: 5 }, 'the answer names the move');
  const firstHeld = [client.act(), client.act(FrameFlag.NO_REPLY), client.act()];
  await client.barrier();
  assert.deepEqual(a.frames(), [unanswered], 'held: nothing reaches the engine');
  a.send(EngineToGateway.MIGRATE_ABORTED, connId);
  await waitFor(() => a.frames().length === 4 || undefined, { timeoutMs: 5000, message: 'the held frames back at engine-a' });
  assert.deepEqual(a.frames(), [unanswered, ...firstHeld], 'in the order sent');
  for (const id of [firstHeld[0]!, firstHeld[2]!]) a.send(EngineToGateway.TO_CLIENT, connId, encodeFrame(FrameKind.RESPONSE, act.id, id, new Uint8Array([id])));

  a.send(EngineToGateway.MIGRATING, connId, encodeMigratingBody({ move: 6 }));
  await a.take((m) => m.type === GatewayToEngine.MIGRATE_HOLD && m.channel === connId, 'the second MIGRATE_HOLD');
  const secondHeld = [client.act(), client.act(FrameFlag.NO_REPLY)];
  await client.barrier();
  const epoch = coordinator.placement.lookup('world:1')!.epoch;
  assert.ok((await coordinator.placement.move('world:1', epoch, 'engine-b')) !== undefined);
  a.send(EngineToGateway.MIGRATED, connId, encodeMigratedBody({ sceneId: 'world:1', to: 'engine-b' }));
  const join = await b.take((m) => m.type === GatewayToEngine.JOIN && m.channel === connId, 'the JOIN at engine-b');
  assert.equal(decodeJoinBody(join.body).sceneId, 'world:1');
  await waitFor(() => b.frames().length === 2 || undefined, { timeoutMs: 5000, message: 'the held frames at engine-b' });
  assert.deepEqual(b.frames(), secondHeld, 'in the order sent, behind the JOIN');
  assert.deepEqual(a.frames(), [unanswered, ...firstHeld], 'none at the old engine after the move');
  await waitFor(() => client.got.some((f) => readFrameHeader(f)?.opcode === CORE_PUSH.SceneMoved) || undefined, { timeoutMs: 5000, message: 'the SceneMoved push' });
  assert.deepEqual(client.errors(), new Map([[unanswered, `${ErrorCodes.GW_ERR_SCENE_MOVED} (retryable)`]]), 'only the request the old engine never answered, once');
  const next = client.act();
  await waitFor(() => b.frames().includes(next) || undefined, { timeoutMs: 5000, message: 'a later frame straight to engine-b' });
  client.ws.close();
  await b.take((m) => m.type === GatewayToEngine.LEAVE && m.channel === connId, 'the LEAVE at engine-b');
});

test('a player still joining when the move begins is held too (the engine counts it in the scene before its JOINED comes)', async () => {
  const a = engine('engine-a');
  const b = engine('engine-b');
  // world:1 is on engine-b since the first test; move it back to engine-a for this one.
  const placed = coordinator.placement.lookup('world:1')!;
  const back = placed.engineId === 'engine-a' ? placed : (await coordinator.placement.move('world:1', placed.epoch, 'engine-a'))!;
  a.inbox.length = 0;
  b.inbox.length = 0;
  a.holdJoins = true;
  try {
    const { session } = await sessions.create({ accountId: 'm3', username: 'm3', sceneId: 'world:1' });
    const client = await Client.open(`${gateway.publicUrl}?token=${session.token}&v=${protocol.version}`);
    const join = await a.take((m) => m.type === GatewayToEngine.JOIN && decodeJoinBody(m.body).playerId === 'm3', "m3's JOIN");
    const connId = join.channel;
    a.send(EngineToGateway.MIGRATING, connId, encodeMigratingBody({ move: 11 }));
    await a.take((m) => m.type === GatewayToEngine.MIGRATE_HOLD && m.channel === connId, 'MIGRATE_HOLD');
    a.send(EngineToGateway.JOINED, connId, encodeJoinedBody({ sceneId: 'world:1' }));
    const held = [client.act(), client.act()];
    await client.barrier();
    assert.deepEqual(a.frames(), [], 'held, though it joined meanwhile');
    assert.ok((await coordinator.placement.move('world:1', back.epoch, 'engine-b')) !== undefined);
    a.send(EngineToGateway.MIGRATED, connId, encodeMigratedBody({ sceneId: 'world:1', to: 'engine-b' }));
    await b.take((m) => m.type === GatewayToEngine.JOIN && m.channel === connId, 'the JOIN at engine-b');
    await waitFor(() => held.every((id) => b.frames().includes(id)) || undefined, { timeoutMs: 5000, message: 'the held frames at engine-b' });
    assert.deepEqual(b.frames().filter((id) => held.includes(id)), held);
    client.ws.close();
  } finally {
    a.holdJoins = false;
  }
});

test('the engine is lost during the hold: the hold ends with it, the player resumes elsewhere and its frames flow again', async () => {
  const c = engine('engine-c');
  const b = engine('engine-b');
  const { client, connId } = await joined('m2', 'world:3', 'engine-c');
  c.send(EngineToGateway.MIGRATING, connId, encodeMigratingBody({ move: 9 }));
  await c.take((m) => m.type === GatewayToEngine.MIGRATE_HOLD && m.channel === connId, 'MIGRATE_HOLD');
  const held = client.act();
  await client.barrier();
  // engine-c dies (its link drops); its scene is placed on engine-b.
  await c.stop();
  const epoch = coordinator.placement.lookup('world:3')!.epoch;
  await coordinator.placement.release('world:3', epoch);
  await coordinator.placement.assign('world:3', 'engine-b');
  await b.take((m) => m.type === GatewayToEngine.JOIN && decodeJoinBody(m.body).sceneId === 'world:3', 'the resume JOIN at engine-b');
  await waitFor(() => client.errors().has(held) || undefined, { timeoutMs: 5000, message: 'the held request refused (retryable)' });
  const after = client.act();
  await waitFor(() => b.frames().includes(after) || undefined, { timeoutMs: 10_000, message: 'a frame after the resume at engine-b, not held' });
  client.ws.close();
});

/**
 * The gateway's side of scene travel (travel.ts), against two scripted engines on in-process
 * links and a real client socket: frames held during the switch and delivered to the target in
 * order, the session moved, refusals and a crash of the source answering each held request once.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  EngineToGateway,
  GatewayToEngine,
  decodeJoinBody,
  decodeJoinFailedBody,
  decodeTravelOutBody,
  encodeBroadcastBody,
  encodeJoinFailedBody,
  encodeJoinedBody,
  encodeTravelBody,
} from '@gos/link';
import {
  CodedError,
  ErrorCodes,
  FrameFlag,
  FrameKind,
  encodeFrame,
  encodeSceneChangedFrame,
  framePayload,
  readFrameHeader,
} from '@gos/schema';
import { waitFor } from '@gos/testing';
import { MemorySessionStore } from '../src/index.js';
import { Client, ScriptedEngine, act, protocol, startScriptedCluster, type ScriptedCluster } from './scripted-engines.js';

/** A memory store whose setScene fails `failures` more times, as Redis does when it blips. */
class FlakySessions extends MemorySessionStore {
  failures = 0;
  override async setScene(token: string, sceneId: string): Promise<void> {
    if (this.failures > 0) {
      this.failures--;
      throw new CodedError(ErrorCodes.GW_ERR_SESSION_STORE, 'session setScene failed: connect ECONNREFUSED');
    }
    return super.setScene(token, sceneId);
  }
}

let sessions: FlakySessions;
let cluster: ScriptedCluster;
let a: ScriptedEngine;
let b: ScriptedEngine;
let gateway: ScriptedCluster['gateway'];

before(async () => {
  sessions = new FlakySessions();
  cluster = await startScriptedCluster({ engines: { 'engine-a': ['world:1'], 'engine-b': ['world:2'] }, defaultSceneId: 'world:1', clusterSecret: 'travel-test-secret-0123456', sessions });
  gateway = cluster.gateway;
  a = cluster.engines.get('engine-a')!;
  b = cluster.engines.get('engine-b')!;
});

after(() => cluster.close());

/** A player joined in world:1 on engine-a: its client, its channel on the links, its token. */
async function joined(name: string): Promise<{ client: Client; connId: number; token: string }> {
  const { session } = await sessions.create({ accountId: name, username: name, sceneId: 'world:1' });
  const client = await Client.open(`${gateway.publicUrl}?token=${session.token}&v=${protocol.version}`);
  const join = await a.take((m) => m.type === GatewayToEngine.JOIN && decodeJoinBody(m.body).playerId === name, `${name}'s JOIN`);
  // The gateway is in: a request reaches engine-a, which answers it.
  const id = client.act();
  await waitFor(() => a.frames().includes(id) || undefined, { timeoutMs: 5000, message: 'a first request at engine-a' });
  a.send(EngineToGateway.TO_CLIENT, join.channel, encodeFrame(FrameKind.RESPONSE, act.id, id, new Uint8Array([id])));
  await waitFor(() => client.got.length > 0 || undefined, { timeoutMs: 5000, message: 'the first answer' });
  a.inbox.length = 0;
  return { client, connId: join.channel, token: session.token };
}

test('a travel across engines: frames sent during it wait and reach the target in order; the session names the target', async () => {
  const { client, connId, token } = await joined('p1');
  // The session store fails the first two writes of the travel's target: they are tried again.
  sessions.failures = 2;
  // Taken by the source scene, never answered there: refused (retryable) once the player is gone.
  const unanswered = client.act();
  await waitFor(() => a.frames().includes(unanswered) || undefined, { timeoutMs: 5000, message: 'the request at engine-a' });
  a.send(EngineToGateway.TRAVEL, connId, encodeTravelBody({ to: 'world:2', arrival: '{"x":1}' }));
  const reserve = await b.take((m) => m.type === GatewayToEngine.JOIN && m.channel === connId, 'the reservation at engine-b');
  assert.deepEqual(decodeJoinBody(reserve.body), { playerId: 'p1', name: 'p1', sceneId: 'world:2', arrival: '{"x":1}', reserve: true, from: 'world:1' });
  const held = [client.act(), client.act(FrameFlag.NO_REPLY), client.act()];
  await client.barrier();
  b.send(EngineToGateway.TRAVEL_READY, connId);
  const out = await a.take((m) => m.type === GatewayToEngine.TRAVEL_OUT && m.channel === connId, 'TRAVEL_OUT at engine-a');
  assert.deepEqual(decodeTravelOutBody(out.body), { to: 'world:2', arrival: '', local: false });
  a.send(EngineToGateway.TRAVEL_RELEASED, connId);
  await b.take((m) => m.type === GatewayToEngine.TRAVEL_IN && m.channel === connId, 'TRAVEL_IN at engine-b');
  assert.deepEqual(b.frames(), [], 'nothing before the player is in');
  b.send(EngineToGateway.TO_CLIENT, connId, encodeSceneChangedFrame('world:1', 'world:2'));
  // From SceneChanged on, the socket hears world:2's broadcasts and not world:1's.
  a.send(EngineToGateway.BROADCAST, 0, encodeBroadcastBody('s/world:1', encodeFrame(FrameKind.PUSH, 7, 0, new Uint8Array([1]))));
  b.send(EngineToGateway.BROADCAST, 0, encodeBroadcastBody('s/world:2', encodeFrame(FrameKind.PUSH, 7, 0, new Uint8Array([2]))));
  b.send(EngineToGateway.JOINED, connId, encodeJoinedBody({ sceneId: 'world:2' }));
  await waitFor(() => b.frames().length === 3 || undefined, { timeoutMs: 5000, message: 'the held frames at engine-b' });
  assert.deepEqual(b.frames(), held, 'in the order sent');
  assert.deepEqual(a.frames(), [unanswered], 'none at the source after the travel began');
  // Recorded in the session (presence), though the store failed the first two writes.
  await waitFor(async () => (await sessions.get(token))?.sceneId === 'world:2' || undefined, { timeoutMs: 5000, message: 'the session naming world:2' });
  // From now on frames go to engine-b directly.
  const next = client.act();
  await waitFor(() => b.frames().includes(next) || undefined, { timeoutMs: 5000, message: 'a later frame at engine-b' });
  // Sent once the player was in, after the broadcasts: once it is here, so are they.
  await waitFor(() => client.errors().has(unanswered) || undefined, { timeoutMs: 5000, message: 'the refusal of the unanswered request' });
  assert.deepEqual(client.errors(), new Map([[unanswered, `${ErrorCodes.GW_ERR_SCENE_MOVED} (retryable)`]]));
  const broadcasts = client.got.filter((f) => readFrameHeader(f)?.opcode === 7).map((f) => framePayload(f)[0]);
  assert.deepEqual(broadcasts, [2], "world:2's broadcast only");
  client.ws.close();
  await b.take((m) => m.type === GatewayToEngine.LEAVE && m.channel === connId, 'the LEAVE at engine-b');
  b.inbox.length = 0;
});

test('a refused reservation: the player stays, each held request is refused once (retryable), the source is told', async () => {
  const { client, connId } = await joined('p2');
  a.send(EngineToGateway.TRAVEL, connId, encodeTravelBody({ to: 'world:2', arrival: '' }));
  await b.take((m) => m.type === GatewayToEngine.JOIN && m.channel === connId, 'the reservation at engine-b');
  const held = [client.act(), client.act()];
  await client.barrier();
  b.send(EngineToGateway.JOIN_FAILED, connId, encodeJoinFailedBody({ code: ErrorCodes.ENG_ERR_FULL, message: 'full' }));
  const cancel = await a.take((m) => m.type === GatewayToEngine.TRAVEL_CANCEL && m.channel === connId, 'TRAVEL_CANCEL at engine-a');
  assert.equal(decodeJoinFailedBody(cancel.body).code, ErrorCodes.ENG_ERR_FULL);
  await waitFor(() => client.errors().size === 2 || undefined, { timeoutMs: 5000, message: 'the two refusals' });
  assert.deepEqual(client.errors(), new Map(held.map((id) => [id, `${ErrorCodes.GW_ERR_TRAVEL_FAILED} (retryable)`])));
  assert.equal(client.errorCount(), 2, 'each once');
  // It plays on in world:1.
  const next = client.act();
  await waitFor(() => a.frames().includes(next) || undefined, { timeoutMs: 5000, message: 'a later frame at engine-a' });
  assert.deepEqual(b.frames(), []);
  client.ws.close();
  await a.take((m) => m.type === GatewayToEngine.LEAVE && m.channel === connId, 'the LEAVE at engine-a');
  b.inbox.length = 0;
});

test('the source crashes while the target reserves: the reservation is dropped, held and earlier requests are each answered once', async () => {
  const { client, connId } = await joined('p3');
  const earlier = client.act();
  await waitFor(() => a.frames().includes(earlier) || undefined, { timeoutMs: 5000, message: 'the earlier request at engine-a' });
  a.send(EngineToGateway.TRAVEL, connId, encodeTravelBody({ to: 'world:2', arrival: '' }));
  await b.take((m) => m.type === GatewayToEngine.JOIN && m.channel === connId, 'the reservation at engine-b');
  const held = client.act();
  await client.barrier();
  a.send(EngineToGateway.SCENE_CRASHED, connId);
  await b.take((m) => m.type === GatewayToEngine.LEAVE && m.channel === connId, 'the reservation dropped');
  await a.take((m) => m.type === GatewayToEngine.TRAVEL_CANCEL && m.channel === connId, 'TRAVEL_CANCEL at engine-a');
  await waitFor(() => client.errors().size === 2 || undefined, { timeoutMs: 5000, message: 'both requests answered' });
  assert.deepEqual(
    client.errors(),
    new Map([
      [earlier, `${ErrorCodes.GW_ERR_SCENE_MOVED} (retryable)`],
      [held, `${ErrorCodes.GW_ERR_TRAVEL_FAILED} (retryable)`],
    ]),
  );
  // A late TRAVEL_READY for the dropped reservation changes nothing.
  b.send(EngineToGateway.TRAVEL_READY, connId);
  const next = client.act();
  await waitFor(() => a.frames().includes(next) || undefined, { timeoutMs: 5000, message: 'a later frame at engine-a' });
  assert.equal(a.inbox.filter((m) => m.type === GatewayToEngine.TRAVEL_OUT).length, 0);
  assert.equal(client.errorCount(), 2, 'no second answer');
  client.ws.close();
});

test("a travel asked by the scene's onJoin (before its JOINED) starts once the player is in", async () => {
  const { session } = await sessions.create({ accountId: 'p4', username: 'p4', sceneId: 'world:1' });
  a.holdJoins = true;
  try {
    const client = await Client.open(`${gateway.publicUrl}?token=${session.token}&v=${protocol.version}`);
    const join = await a.take((m) => m.type === GatewayToEngine.JOIN && decodeJoinBody(m.body).playerId === 'p4', "p4's JOIN");
    a.send(EngineToGateway.TRAVEL, join.channel, encodeTravelBody({ to: 'world:2', arrival: '' }));
    a.send(EngineToGateway.JOINED, join.channel, encodeJoinedBody({ sceneId: 'world:1' }));
    const reserve = await b.take((m) => m.type === GatewayToEngine.JOIN && m.channel === join.channel, 'the reservation at engine-b');
    assert.equal(decodeJoinBody(reserve.body).reserve, true);
    assert.equal(a.inbox.filter((m) => m.type === GatewayToEngine.TRAVEL_CANCEL).length, 0, 'not refused');
    b.send(EngineToGateway.JOIN_FAILED, join.channel, encodeJoinFailedBody({ code: ErrorCodes.ENG_ERR_FULL, message: 'full' }));
    await a.take((m) => m.type === GatewayToEngine.TRAVEL_CANCEL && m.channel === join.channel, 'TRAVEL_CANCEL at engine-a');
    client.ws.close();
    await a.take((m) => m.type === GatewayToEngine.LEAVE && m.channel === join.channel, 'the LEAVE at engine-a');
  } finally {
    a.holdJoins = false;
  }
});

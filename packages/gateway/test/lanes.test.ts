/**
 * Frame lanes, the gateway's side (docs/link.md "Frame lanes"), against scripted engines on
 * in-process links that offer lanes, and a real client socket: a joined player's frames take the
 * lane, fall back to the link when the engine refuses them there, keep their order either way,
 * and follow the player to another engine's lane after a travel.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { EngineToGateway, GatewayToEngine, decodeJoinBody, encodeJoinedBody, encodeTravelBody } from '@gos/link';
import { FrameKind, encodeFrame, readFrameHeader } from '@gos/schema';
import { waitFor } from '@gos/testing';
import { Client, ScriptedEngine, act, protocol, startScriptedCluster, type Message, type ScriptedCluster } from './scripted-engines.js';

let cluster: ScriptedCluster;
let sessions: ScriptedCluster['sessions'];
let a: ScriptedEngine;
let b: ScriptedEngine;
let gateway: ScriptedCluster['gateway'];

before(async () => {
  cluster = await startScriptedCluster({ engines: { 'engine-a': ['world:1'], 'engine-b': ['world:2'] }, defaultSceneId: 'world:1', clusterSecret: 'lanes-test-secret-0123456789', lanes: true });
  ({ sessions, gateway } = cluster);
  a = cluster.engines.get('engine-a')!;
  b = cluster.engines.get('engine-b')!;
});

after(() => cluster.close());

/** The client frames `engine` got, in order: request id and whether it came on the lane. */
const frames = (engine: ScriptedEngine): string[] =>
  engine.inbox.filter((m: Message) => m.type === GatewayToEngine.CLIENT_FRAME).map((m) => `${readFrameHeader(m.body)!.requestId}${m.lane === true ? ' lane' : ' link'}`);

test("a joined player's frames take the engine's lane, the link when the lane refuses, in order; after a travel, the target's lane", async () => {
  const { session } = await sessions.create({ accountId: 'p1', username: 'p1', sceneId: 'world:1' });
  const client = await Client.open(`${gateway.publicUrl}?token=${session.token}&v=${protocol.version}`);
  const join = await a.take((m) => m.type === GatewayToEngine.JOIN && decodeJoinBody(m.body).playerId === 'p1', "p1's JOIN");
  const connId = join.channel;
  const first = client.act();
  await waitFor(() => frames(a).length === 1 || undefined, { timeoutMs: 5000, message: 'the first frame at engine-a' });
  assert.deepEqual(frames(a), [`${first} lane`], 'joined: on the lane');
  a.send(EngineToGateway.TO_CLIENT, connId, encodeFrame(FrameKind.RESPONSE, act.id, first, new Uint8Array([first])));
  await waitFor(() => client.got.length > 0 || undefined, { timeoutMs: 5000, message: 'the answer' });

  // The engine's lane refuses (say its scene restarts): the same frames go on the link, in order.
  a.lanesOpen = false;
  const refused = [client.act(), client.act()];
  await client.barrier();
  a.lanesOpen = true;
  const later = client.act();
  await waitFor(() => frames(a).length === 4 || undefined, { timeoutMs: 5000, message: 'four frames at engine-a' });
  assert.deepEqual(frames(a), [`${first} lane`, `${refused[0]} link`, `${refused[1]} link`, `${later} lane`]);

  // A travel to engine-b: the player's frames go to engine-b's lane once it is in, never to engine-a's.
  a.inbox.length = 0;
  a.send(EngineToGateway.TRAVEL, connId, encodeTravelBody({ to: 'world:2', arrival: '' }));
  await b.take((m) => m.type === GatewayToEngine.JOIN && m.channel === connId, 'the reservation at engine-b');
  b.send(EngineToGateway.TRAVEL_READY, connId);
  await a.take((m) => m.type === GatewayToEngine.TRAVEL_OUT && m.channel === connId, 'TRAVEL_OUT at engine-a');
  a.send(EngineToGateway.TRAVEL_RELEASED, connId);
  await b.take((m) => m.type === GatewayToEngine.TRAVEL_IN && m.channel === connId, 'TRAVEL_IN at engine-b');
  b.send(EngineToGateway.JOINED, connId, encodeJoinedBody({ sceneId: 'world:2' }));
  const there = client.act();
  await waitFor(() => frames(b).length === 1 || undefined, { timeoutMs: 5000, message: 'a frame at engine-b' });
  assert.deepEqual(frames(b), [`${there} lane`]);
  assert.deepEqual(frames(a), [], "nothing on engine-a's lane after the travel");
  client.ws.close();
  await b.take((m) => m.type === GatewayToEngine.LEAVE && m.channel === connId, 'the LEAVE at engine-b');
});

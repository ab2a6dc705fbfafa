/**
 * Fire-and-forget inputs held for the tick (input-hold.ts, docs/link.md "Inputs held for the
 * tick"): against a scripted engine on a TCP link whose JOINED says its scene takes inputs at its
 * ticks, a player's NO_REPLY frames wait in the link's batch until just before the next point of
 * the scene's grid, and anything else takes them along at once, in order.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EngineToGateway, GatewayToEngine, decodeJoinBody } from '@gos/link';
import { FrameFlag, FrameKind, encodeFrame, readFrameHeader } from '@gos/schema';
import { waitFor } from '@gos/testing';
import { inputHoldUntil } from '../src/input-hold.js';
import { Client, protocol, startScriptedCluster, type ScriptedCluster, type ScriptedEngine } from './scripted-engines.js';

const SECRET = 'input-hold-test-secret-0123456789';

/**
 * How long "at once" may take here. Under the gateway's link heartbeat (a PING after 2 s without
 * a write, which writes held frames with it): a held frame could not arrive this soon.
 */
const AT_ONCE_MS = 1000;

test('inputHoldUntil: lead before the next point of the grid, on the wall clock; at once within the lead', () => {
  // origin 0: performance.now() is the wall clock.
  assert.equal(inputHoldUntil(1234, 100, 5, 0), 1295);
  assert.equal(inputHoldUntil(1295, 100, 5, 0), undefined, 'at the lead: at once');
  assert.equal(inputHoldUntil(1299.9, 100, 5, 0), undefined);
  assert.equal(inputHoldUntil(1300, 100, 5, 0), undefined, 'on a grid point: within the lead of its tick, at once');
  assert.equal(inputHoldUntil(1300.5, 100, 5, 0), 1395, 'past a point: the next one');
  // A process started at wall time 50: its clock reads 1234 at wall time 1284.
  assert.equal(inputHoldUntil(1234, 100, 5, 50), 1245);
  // At epoch magnitudes: 1_700_000_000_000 is a multiple of 16, so the next point after …011 is …016.
  assert.equal(inputHoldUntil(10, 16, 2, 1_700_000_000_001), 1_700_000_000_016 - 2 - 1_700_000_000_001);
});

/** One player joined to `world:1` on `engine`: its client, and its connection id there. */
async function joined(cluster: ScriptedCluster, engine: ScriptedEngine, accountId: string): Promise<{ client: Client; connId: number }> {
  const { session } = await cluster.sessions.create({ accountId, username: accountId, sceneId: 'world:1' });
  const client = await Client.open(`${cluster.gateway.publicUrl}?token=${session.token}&v=${protocol.version}`);
  const join = await engine.take((m) => m.type === GatewayToEngine.JOIN && decodeJoinBody(m.body).playerId === accountId, `${accountId}'s JOIN`);
  // JOINED went back at once; a frame the engine sends after it reaches the client once the
  // gateway has handled it (the link keeps order).
  engine.send(EngineToGateway.TO_CLIENT, join.channel, encodeFrame(FrameKind.PUSH, 1, 0, new Uint8Array(0)));
  await waitFor(() => client.got.length > 0, { timeoutMs: 5000, message: 'a push after JOINED' });
  return { client, connId: join.channel };
}

/** What `engine` got on connection `connId`: client frames by request id, and LEAVE. */
function seen(engine: ScriptedEngine, connId: number): string[] {
  return engine.inbox
    .filter((m) => m.channel === connId && (m.type === GatewayToEngine.CLIENT_FRAME || m.type === GatewayToEngine.LEAVE))
    .map((m) => (m.type === GatewayToEngine.LEAVE ? 'leave' : String(readFrameHeader(m.body)!.requestId)));
}

test('TCP link: fire-and-forget inputs wait until just before the tick, and leave together', async () => {
  const cluster = await startScriptedCluster({ engines: { e1: ['world:1'] }, defaultSceneId: 'world:1', clusterSecret: SECRET, transport: 'tcp' });
  try {
    const engine = cluster.engines.get('e1')!;
    engine.inputTickMs = 400;
    const { client, connId } = await joined(cluster, engine, 'p1');
    const sentAt = performance.now();
    const ids = [client.act(FrameFlag.NO_REPLY), client.act(FrameFlag.NO_REPLY), client.act(FrameFlag.NO_REPLY)];
    await waitFor(() => seen(engine, connId).length === 3, { timeoutMs: 5000, message: 'the three inputs' });
    assert.deepEqual(seen(engine, connId), ids.map(String));
    const arrived = engine.inbox.filter((m) => m.channel === connId && m.type === GatewayToEngine.CLIENT_FRAME).map((m) => m.at);
    // Held to 10 ms (the default lead) before the next point of the 400 ms grid after they were
    // sent (or sent at once when that was within 10 ms). A timer may fire early by what its
    // loop turn had already run when it was set (the loop's clock is read once a turn), and its
    // delay is cut to whole ms: 10 ms of slack for a loaded machine; unheld, they would arrive
    // within a millisecond or two of being sent, most of the interval earlier.
    const holdUntil = inputHoldUntil(sentAt, 400, 10);
    if (holdUntil !== undefined && holdUntil - sentAt > 30) {
      for (const at of arrived) assert.ok(at >= holdUntil - 10, `held until ${holdUntil.toFixed(1)}: arrived at ${at.toFixed(1)}`);
    }
    client.ws.close();
  } finally {
    await cluster.close();
  }
});

test('TCP link: a request takes the held inputs along at once, in order; so does the LEAVE of a closing socket', async () => {
  const cluster = await startScriptedCluster({ engines: { e1: ['world:1'] }, defaultSceneId: 'world:1', clusterSecret: SECRET, transport: 'tcp' });
  try {
    const engine = cluster.engines.get('e1')!;
    // A minute between ticks: held inputs would wait far longer than the test does.
    engine.inputTickMs = 60_000;
    const p1 = await joined(cluster, engine, 'p1');
    const inputs = [p1.client.act(FrameFlag.NO_REPLY), p1.client.act(FrameFlag.NO_REPLY)];
    const request = p1.client.act();
    await waitFor(() => seen(engine, p1.connId).length === 3, { timeoutMs: AT_ONCE_MS, message: 'the request and the inputs before it, at once' });
    assert.deepEqual(seen(engine, p1.connId), [...inputs, request].map(String));

    const p2 = await joined(cluster, engine, 'p2');
    const held = [p2.client.act(FrameFlag.NO_REPLY), p2.client.act(FrameFlag.NO_REPLY)];
    await p2.client.barrier(); // the gateway has them (its own answer), the engine not yet
    assert.deepEqual(seen(engine, p2.connId), [], 'held');
    p2.client.ws.close();
    await waitFor(() => seen(engine, p2.connId).length === 3, { timeoutMs: AT_ONCE_MS, message: "p2's inputs, then its LEAVE, at once" });
    assert.deepEqual(seen(engine, p2.connId), [...held.map(String), 'leave']);
    p1.client.ws.close();
  } finally {
    await cluster.close();
  }
});

test('TCP link: inputs go at once to a scene that takes them as they come, and with inputHoldLeadMs 0', async () => {
  for (const [inputTickMs, inputHoldLeadMs] of [
    [0, undefined],
    [60_000, 0],
  ] as const) {
    const cluster = await startScriptedCluster({ engines: { e1: ['world:1'] }, defaultSceneId: 'world:1', clusterSecret: SECRET, transport: 'tcp', ...(inputHoldLeadMs === undefined ? {} : { inputHoldLeadMs }) });
    try {
      const engine = cluster.engines.get('e1')!;
      engine.inputTickMs = inputTickMs;
      const { client, connId } = await joined(cluster, engine, 'p1');
      const id = client.act(FrameFlag.NO_REPLY);
      await waitFor(() => seen(engine, connId).length === 1, { timeoutMs: AT_ONCE_MS, message: `the input at once (inputTickMs ${inputTickMs}, lead ${String(inputHoldLeadMs)})` });
      assert.deepEqual(seen(engine, connId), [String(id)]);
      client.ws.close();
    } finally {
      await cluster.close();
    }
  }
});

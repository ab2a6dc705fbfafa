/**
 * The gateway's cell topics (docs/aoi.md): an engine's INTEREST subscribes a socket to a cell's
 * near topic, or with FAR_CELL to its far band's topic; CELLS publishes each frame on the topic of
 * its key, so a socket gets a cell's frames of the band it hears, and a reset drops both bands.
 * Real gateway and sockets; the engine is scripted on an in-process link.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { EngineToGateway, GatewayToEngine, decodeJoinBody, encodeCellsBody, encodeInterestBody } from '@gos/link';
import { FrameKind, encodeFrame, farCell, framePayload, packCell, readFrameHeader } from '@gos/schema';
import { waitFor } from '@gos/testing';
import { cellTopic } from '../src/socket.js';
import { Client, ScriptedEngine, protocol, startScriptedCluster, type ScriptedCluster } from './scripted-engines.js';

const CELL_PUSH = 500;
let cluster: ScriptedCluster;
let sessions: ScriptedCluster['sessions'];
let gateway: ScriptedCluster['gateway'];
let engine: ScriptedEngine;

before(async () => {
  cluster = await startScriptedCluster({ engines: { 'engine-a': ['field:1'] }, defaultSceneId: 'field:1', clusterSecret: 'cell-topics-test-secret-0123456' });
  ({ sessions, gateway } = cluster);
  engine = cluster.engines.get('engine-a')!;
});

after(() => cluster.close());

/** A player joined in field:1: its client and its channel on the link. */
async function joined(name: string): Promise<{ client: Client; channel: number }> {
  const { session } = await sessions.create({ accountId: name, username: name, sceneId: 'field:1' });
  const client = await Client.open(`${gateway.publicUrl}?token=${session.token}&v=${protocol.version}`);
  const join = await engine.take((m) => m.type === GatewayToEngine.JOIN && decodeJoinBody(m.body).playerId === name, `${name}'s JOIN`);
  const id = client.act();
  await waitFor(() => engine.frames().includes(id) || undefined, { timeoutMs: 5000, message: `${name}'s first request at the engine` });
  engine.inbox.length = 0;
  return { client, channel: join.channel };
}

/** A cell frame marked with `tag`, for telling frames apart. */
const frame = (tag: number): Uint8Array => encodeFrame(FrameKind.PUSH, CELL_PUSH, 0, new Uint8Array([tag]));
const tags = (c: Client): number[] => c.got.filter((f) => readFrameHeader(f)?.opcode === CELL_PUSH).map((f) => framePayload(f)[0]!);

test('topics: a far band has its own topic, and the client never sees the band bit', () => {
  assert.equal(cellTopic('field:1', packCell(3, 7)), 's/field:1/c/3_7');
  assert.equal(cellTopic('field:1', farCell(packCell(3, 7))), 's/field:1/f/3_7');
  assert.equal(cellTopic('field:1', farCell(packCell(0x7fff, 0x7fff))), 's/field:1/f/32767_32767');
});

test('each socket gets a cell\'s frames of the band it hears; switching band and a reset move it between topics', async () => {
  const a = await joined('near-one');
  const b = await joined('far-one');
  const cell = packCell(4, 4);
  const other = packCell(6, 4);
  const interest = (channel: number, add: number[], remove: number[], reset = false): void =>
    engine.send(EngineToGateway.INTEREST, channel, encodeInterestBody({ sceneId: 'field:1', reset, add, remove, frames: [] }));
  const cells = (keys: number[], first: number): void =>
    engine.send(EngineToGateway.CELLS, 0, encodeCellsBody({ sceneId: 'field:1', cells: keys, frames: keys.map((_, i) => frame(first + i)) }));

  interest(a.channel, [cell, farCell(other)], []);
  interest(b.channel, [farCell(cell)], []);
  await Promise.all([a.client.barrier(), b.client.barrier()]);
  cells([cell, farCell(cell), other, farCell(other)], 1); // tags 1 (cell near), 2 (cell far), 3 (other near), 4 (other far)
  await waitFor(() => tags(a.client).length === 2 && tags(b.client).length === 1, { message: 'the first tick of frames' });
  assert.deepEqual(tags(a.client), [1, 4]);
  assert.deepEqual(tags(b.client), [2]);

  // b's cell comes near; a is reset: it hears nothing of the scene's cells until told again.
  interest(b.channel, [cell], [farCell(cell)]);
  interest(a.channel, [], [], true);
  await Promise.all([a.client.barrier(), b.client.barrier()]);
  cells([cell, farCell(cell), other, farCell(other)], 11);
  await waitFor(() => tags(b.client).length === 2, { message: 'the second tick of frames' });
  await a.client.barrier();
  assert.deepEqual(tags(b.client), [2, 11]);
  assert.deepEqual(tags(a.client), [1, 4], 'a reset drops the far topics too');
  a.client.ws.close();
  b.client.ws.close();
});

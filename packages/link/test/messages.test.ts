import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCodes } from '@gos/schema';
import {
  ENGINE_TO_GW,
  EngineToGateway,
  GW_TO_ENGINE,
  GatewayToEngine,
  decodeBroadcastBody,
  decodeJoinBody,
  decodeJoinFailedBody,
  decodeJoinedBody,
  decodeJsonBody,
  decodeKickBody,
  encodeBroadcastBody,
  encodeJsonBody,
  FIRST_USER_TYPE,
} from '../src/index.js';

const bad = { code: ErrorCodes.SCH_ERR_BAD_PAYLOAD };

test('message type constants', () => {
  assert.deepEqual(GW_TO_ENGINE, { JOIN: 16, LEAVE: 17, CLIENT_FRAME: 18 });
  assert.deepEqual(ENGINE_TO_GW, { TO_CLIENT: 32, BROADCAST: 33, KICK: 34, JOINED: 35, JOIN_FAILED: 36, SCENE_CRASHED: 37 });
  assert.equal(GatewayToEngine, GW_TO_ENGINE);
  assert.equal(EngineToGateway, ENGINE_TO_GW);
  const all = [...Object.values(GatewayToEngine), ...Object.values(EngineToGateway)];
  assert.equal(new Set(all).size, all.length, 'no type used twice');
  for (const t of all) assert.ok(t >= FIRST_USER_TYPE && t <= 255);
});

test('broadcast body round trip', () => {
  const frame = new Uint8Array([1, 2, 3, 250]);
  for (const topic of ['s/lobby', 'é/場景/🙂', 'x'.repeat(70_000).slice(0, 65_535)]) {
    const body = encodeBroadcastBody(topic, frame);
    assert.equal(body[0]! | (body[1]! << 8), Buffer.byteLength(topic));
    const decoded = decodeBroadcastBody(body);
    assert.equal(decoded.topic, topic);
    assert.deepEqual([...decoded.frame], [...frame]);
  }
  assert.deepEqual([...decodeBroadcastBody(encodeBroadcastBody('t', new Uint8Array(0))).frame], []);
});

test('broadcast body: malformed input is a coded error', () => {
  assert.throws(() => decodeBroadcastBody(new Uint8Array(0)), bad);
  assert.throws(() => decodeBroadcastBody(new Uint8Array([5])), bad);
  assert.throws(() => decodeBroadcastBody(new Uint8Array([5, 0, 65, 66])), bad);
  assert.throws(() => decodeBroadcastBody(new Uint8Array([0, 0, 1, 2])), bad);
  assert.throws(() => decodeBroadcastBody(new Uint8Array([2, 0, 0xff, 0xfe, 1])), bad);
  assert.throws(() => encodeBroadcastBody('', new Uint8Array(1)), bad);
  assert.throws(() => encodeBroadcastBody('é'.repeat(40_000), new Uint8Array(1)), bad);
});

test('JSON bodies: typed decoders accept good bodies', () => {
  const join = { playerId: 'p1', name: 'Ann', sceneId: 'lobby:1', sceneType: 'lobby' };
  assert.deepEqual(decodeJoinBody(encodeJsonBody(join)), join);
  assert.deepEqual(decodeJoinBody(encodeJsonBody({ playerId: 'p1', name: '', sceneId: 's' })), { playerId: 'p1', name: '', sceneId: 's' });
  assert.deepEqual(decodeKickBody(encodeJsonBody({ closeCode: 4005, reason: 'bye' })), { closeCode: 4005, reason: 'bye' });
  assert.deepEqual(decodeJoinedBody(encodeJsonBody({ sceneId: 's' })), { sceneId: 's' });
  assert.deepEqual(decodeJoinFailedBody(encodeJsonBody({ code: 'X', message: 'm' })), { code: 'X', message: 'm' });
  assert.deepEqual(decodeJsonBody<{ a: number }>(encodeJsonBody({ a: 1 })), { a: 1 });
});

test('JSON bodies: malformed input is a coded error, never a crash', () => {
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
  for (const body of [enc(''), enc('{'), enc('null'), enc('[1]'), enc('"s"'), enc('42'), new Uint8Array([0xff, 0xfe])]) {
    assert.throws(() => decodeJsonBody(body), bad);
  }
  assert.throws(() => decodeJoinBody(encodeJsonBody({ playerId: 'p', name: 'n' })), bad);
  assert.throws(() => decodeJoinBody(encodeJsonBody({ playerId: 1, name: 'n', sceneId: 's' })), bad);
  assert.throws(() => decodeJoinBody(encodeJsonBody({ playerId: 'p', name: 'n', sceneId: 's', sceneType: 3 })), bad);
  assert.throws(() => decodeKickBody(encodeJsonBody({ closeCode: 99999, reason: 'r' })), bad);
  assert.throws(() => decodeKickBody(encodeJsonBody({ closeCode: 4000.5, reason: 'r' })), bad);
  assert.throws(() => decodeKickBody(encodeJsonBody({ closeCode: 4000 })), bad);
  assert.throws(() => decodeJoinedBody(encodeJsonBody({})), bad);
  assert.throws(() => decodeJoinFailedBody(encodeJsonBody({ code: '', message: 'm' })), bad);
  try {
    decodeJsonBody(enc('{oops'));
  } catch (err) {
    assert.ok((err as Error).cause instanceof SyntaxError, 'cause kept');
  }
});

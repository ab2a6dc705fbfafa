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
  decodeKickBody,
  encodeBroadcastBody,
  encodeJoinBody,
  encodeJoinFailedBody,
  encodeTravelBody,
  encodeTravelOutBody,
  decodeTravelBody,
  encodeMigratedBody,
  decodeMigratedBody,
  encodeMigratingBody,
  decodeMigratingBody,
  decodeTravelOutBody,
  encodeCallBody,
  decodeCallBody,
  encodeAnswerBody,
  decodeAnswerBody,
  EngineToEngine,
  encodeJoinedBody,
  encodeKickBody,
  FIRST_USER_TYPE,
} from '../src/index.js';
import { JoinBodyCodec } from '../src/generated/protocol.js';

const bad = { code: ErrorCodes.SCH_ERR_BAD_PAYLOAD };

/** A JoinBody table with an empty playerId, built with the generated codec (past encodeJoinBody's check). */
function joinBodyBytes(playerId: string): Uint8Array {
  return JoinBodyCodec.encode({ playerId, name: 'n', sceneId: 's', arrival: '', reserve: false, from: '' });
}

test('message type constants', () => {
  assert.deepEqual(GW_TO_ENGINE, { JOIN: 16, LEAVE: 17, CLIENT_FRAME: 18, TRAVEL_OUT: 19, TRAVEL_IN: 20, TRAVEL_CANCEL: 21, MIGRATE_HOLD: 22, SYNC_ACK: 23 });
  assert.deepEqual(ENGINE_TO_GW, {
    TO_CLIENT: 32,
    BROADCAST: 33,
    KICK: 34,
    JOINED: 35,
    JOIN_FAILED: 36,
    SCENE_CRASHED: 37,
    TRAVEL: 38,
    TRAVEL_READY: 39,
    TRAVEL_RELEASED: 40,
    TRAVEL_FAILED: 41,
    CELLS: 42,
    INTEREST: 43,
    MIGRATING: 44,
    MIGRATED: 45,
    MIGRATE_ABORTED: 46,
    SYNC: 47,
  });
  assert.deepEqual(EngineToEngine, { CALL: 48, ANSWER: 49 });
  assert.equal(GatewayToEngine, GW_TO_ENGINE);
  assert.equal(EngineToGateway, ENGINE_TO_GW);
  const all = [...Object.values(GatewayToEngine), ...Object.values(EngineToGateway), ...Object.values(EngineToEngine)];
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

test('control bodies round-trip through their FlatBuffers tables, only their own fields', () => {
  const join = { playerId: 'p1', name: 'Ann', sceneId: 'lobby:1' };
  const none = { arrival: '', reserve: false, from: '' };
  assert.deepEqual(decodeJoinBody(encodeJoinBody(join)), { ...join, ...none });
  assert.deepEqual(decodeJoinBody(encodeJoinBody({ playerId: 'p1', name: '', sceneId: 's' })), { playerId: 'p1', name: '', sceneId: 's', ...none });
  assert.deepEqual(decodeJoinBody(encodeJoinBody({ ...join, extra: 'dropped' } as typeof join)), { ...join, ...none });
  assert.deepEqual(decodeJoinBody(encodeJoinBody({ playerId: 'é/場/🙂', name: '\u202e', sceneId: 'a:b' })), { playerId: 'é/場/🙂', name: '\u202e', sceneId: 'a:b', ...none });
  const travelling = { ...join, arrival: '{"x":3}', reserve: true, from: 'town:1' };
  assert.deepEqual(decodeJoinBody(encodeJoinBody(travelling)), travelling);
  assert.deepEqual(decodeTravelBody(encodeTravelBody({ to: 'dungeon:1', arrival: '' })), { to: 'dungeon:1', arrival: '' });
  assert.deepEqual(decodeTravelOutBody(encodeTravelOutBody({ to: 'd:1', arrival: '[1]', local: true })), { to: 'd:1', arrival: '[1]', local: true });
  const callBody = { to: 'town:1', from: 'dungeon:3', message: 'banner', payload: '{"g":7}', cast: false, timeoutMs: 2000 };
  assert.deepEqual(decodeCallBody(encodeCallBody(callBody)), callBody);
  assert.deepEqual(decodeAnswerBody(encodeAnswerBody({ ok: true, result: '[1]', code: '', message: '' })), { ok: true, result: '[1]', code: '', message: '' });
  assert.deepEqual(decodeAnswerBody(encodeAnswerBody({ ok: false, result: '', code: 'X', message: 'm' })), { ok: false, result: '', code: 'X', message: 'm' });
  assert.deepEqual(decodeKickBody(encodeKickBody({ closeCode: 4005, reason: 'bye' })), { closeCode: 4005, reason: 'bye' });
  assert.deepEqual(decodeJoinedBody(encodeJoinedBody({ sceneId: 's' })), { sceneId: 's', inputTickMs: 0 });
  assert.deepEqual(decodeJoinedBody(encodeJoinedBody({ sceneId: 's', inputTickMs: 100 })), { sceneId: 's', inputTickMs: 100 });
  assert.deepEqual(decodeJoinFailedBody(encodeJoinFailedBody({ code: 'X', message: 'm' })), { code: 'X', message: 'm' });
});

test('control bodies: what breaks a rule is refused when encoded and when decoded, with SCH_ERR_BAD_PAYLOAD', () => {
  assert.throws(() => encodeJoinBody({ playerId: '', name: 'n', sceneId: 's' }), bad);
  assert.throws(() => encodeJoinBody({ playerId: 'p', name: 'n', sceneId: '' }), bad);
  assert.throws(() => encodeKickBody({ closeCode: 999, reason: 'r' }), bad);
  assert.throws(() => encodeKickBody({ closeCode: 5000, reason: 'r' }), bad);
  assert.throws(() => encodeJoinedBody({ sceneId: '' }), bad);
  assert.throws(() => encodeJoinFailedBody({ code: '', message: 'm' }), bad);
  assert.throws(() => encodeTravelBody({ to: '', arrival: '' }), bad);
  assert.deepEqual(decodeMigratedBody(encodeMigratedBody({ sceneId: 'world:1', to: 'engine-2' })), { sceneId: 'world:1', to: 'engine-2' });
  assert.throws(() => encodeMigratedBody({ sceneId: '', to: 'engine-2' }), bad);
  assert.throws(() => encodeMigratedBody({ sceneId: 'world:1', to: '' }), bad);
  assert.deepEqual(decodeMigratingBody(encodeMigratingBody({ move: 7 })), { move: 7 });
  assert.throws(() => encodeMigratingBody({ move: 0 }), bad);
  // A table of one number: bytes that are no table at all are refused (others may read as some
  // move id, which then answers no move: harmless).
  for (const bytes of [new Uint8Array(0), new Uint8Array(3), new Uint8Array(64).fill(0xff), encodeMigratingBody({ move: 1 }).subarray(0, 6)]) {
    assert.throws(() => decodeMigratingBody(bytes), bad, `decodeMigratingBody of ${bytes.byteLength} bytes`);
  }
  assert.throws(() => encodeCallBody({ to: 't', from: '', message: 'm', payload: 'null', cast: true, timeoutMs: 0 }), bad);
  assert.throws(() => encodeAnswerBody({ ok: false, result: '', code: '', message: 'm' }), bad);
  assert.throws(() => encodeTravelOutBody({ to: '', arrival: '', local: false }), bad);
  // A well-formed table that breaks a rule (an older or hostile peer): refused on decode too.
  assert.throws(() => decodeJoinBody(joinBodyBytes('')), bad);
  assert.throws(() => decodeKickBody(encodeJoinedBody({ sceneId: 'x' })), bad);
});

test('control bodies: bytes that are not the table (empty, JSON, truncated, garbage) are a coded error, never a crash', () => {
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
  const good = encodeJoinBody({ playerId: 'p', name: 'n', sceneId: 's' });
  const hostile = [
    new Uint8Array(0),
    new Uint8Array([1]),
    enc('{"playerId":"p","name":"n","sceneId":"s"}'),
    good.subarray(0, good.byteLength - 3),
    good.map((b, i) => (i < 4 ? 0xff : b)),
    new Uint8Array(64).fill(0xff),
  ];
  for (const bytes of hostile) {
    for (const decode of [decodeJoinBody, decodeKickBody, decodeJoinedBody, decodeJoinFailedBody, decodeTravelBody, decodeTravelOutBody, decodeMigratedBody, decodeCallBody, decodeAnswerBody]) {
      assert.throws(() => decode(bytes), bad, `${decode.name} of ${bytes.byteLength} bytes`);
    }
  }
});

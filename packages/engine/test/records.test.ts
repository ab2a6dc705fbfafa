/**
 * The JSON payloads that cross the main ↔ scene rings are checked where they are decoded: bytes
 * that are not UTF-8 JSON, or not the expected shape, are a coded error, never a cast.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCodes, isCodedError } from '@gos/schema';
import { decodeEntityFrames, decodeJoinPayload, decodeSavePayload, decodeSceneState, encodeEntityFrames } from '../src/records.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const badPayload = (err: unknown): boolean => isCodedError(err) && err.code === ErrorCodes.SCH_ERR_BAD_PAYLOAD;

test('JOIN payloads: a whole one decodes; anything else is SCH_ERR_BAD_PAYLOAD', () => {
  const join = { playerId: 'p1', name: 'Ann', data: null, takeover: false };
  assert.deepEqual(decodeJoinPayload(bytes(JSON.stringify(join))), join);
  for (const bad of [
    'not json',
    '[]',
    'null',
    JSON.stringify({ ...join, playerId: '' }),
    JSON.stringify({ ...join, takeover: 'no' }),
    JSON.stringify({ playerId: 'p1', name: 'Ann', takeover: false }),
  ]) {
    assert.throws(() => decodeJoinPayload(bytes(bad)), badPayload, bad);
  }
  assert.throws(() => decodeJoinPayload(new Uint8Array([0x7b, 0xff, 0x7d])), badPayload, 'invalid UTF-8');
});

test('SAVE_PLAYER and SAVE_SCENE payloads are checked the same way', () => {
  assert.deepEqual(decodeSavePayload(bytes('{"playerId":"p1","data":{"x":1}}')), { playerId: 'p1', data: { x: 1 } });
  assert.throws(() => decodeSavePayload(bytes('{"data":{}}')), badPayload);
  // Player data JSON cannot hold (undefined) arrives without its field: nothing to save.
  assert.deepEqual(decodeSavePayload(bytes('{"playerId":"p1"}')), { playerId: 'p1', data: null });
  assert.throws(() => decodeSavePayload(bytes('{"playerId":7,"data":{}}')), badPayload);
  assert.deepEqual(decodeSceneState(bytes('{"round":3}')), { round: 3 });
  assert.throws(() => decodeSceneState(bytes('{"round":')), badPayload);
});

test('entity frame records (CELLS, INTEREST): round-trip; counts or lengths past the payload are a RangeError, never a read out of bounds', () => {
  const r = decodeEntityFrames(encodeEntityFrames({ add: [1, 2], remove: [3], frames: [Uint8Array.of(7, 8), Uint8Array.of(9)] }));
  assert.deepEqual([r.add, r.remove, r.frames.map((f) => [...f])], [[1, 2], [3], [[7, 8], [9]]]);
  const whole = encodeEntityFrames({ add: [1], remove: [], frames: [Uint8Array.of(1, 2, 3)] });
  for (const cut of [0, 8, 12, whole.byteLength - 1]) assert.throws(() => decodeEntityFrames(whole.subarray(0, cut)), RangeError);
  const huge = whole.slice();
  new DataView(huge.buffer).setUint32(0, 0xffffffff, true);
  assert.throws(() => decodeEntityFrames(huge), RangeError);
});

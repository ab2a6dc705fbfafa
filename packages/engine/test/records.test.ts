/**
 * The JSON payloads that cross the main ↔ scene rings are checked where they are decoded: bytes
 * that are not UTF-8 JSON, or not the expected shape, are a coded error, never a cast.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCodes, FRAME_HEADER_BYTES, FrameKind, encodeFrame, isCodedError } from '@gos/schema';
import { CellRecords, ENTITY_RECORD_BYTES, decodeEntityFrames, decodeTickFigures, encodeTickFigures, decodeJoinPayload, decodeSavePayload, decodeSceneState, encodeEntityFrames, decodeReadyPayload, encodeReadyPayload } from '../src/records.js';

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

test('READY payloads: the scene\'s input tick round-trips; anything but a whole number 0..2^32-1 is SCH_ERR_BAD_PAYLOAD', () => {
  assert.deepEqual(decodeReadyPayload(encodeReadyPayload({ inputTickMs: 100 })), { inputTickMs: 100 });
  assert.deepEqual(decodeReadyPayload(encodeReadyPayload({ inputTickMs: 0 })), { inputTickMs: 0 });
  for (const bad of ['', '{}', '{"inputTickMs":-1}', '{"inputTickMs":2.5}', '{"inputTickMs":"100"}', '{"inputTickMs":4294967296}', '[100]']) {
    assert.throws(() => decodeReadyPayload(bytes(bad)), badPayload, bad);
  }
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

test('CellRecords: the records of a tick are what encodeEntityFrames makes of its PUSH frames, cut below ENTITY_RECORD_BYTES', () => {
  const records = new CellRecords();
  const bodies = [Uint8Array.of(1, 2, 3), new Uint8Array(40_000).fill(5), new Uint8Array(50_000).fill(6), new Uint8Array(60_000).fill(7), Uint8Array.of(9)];
  const cut: Uint8Array[] = [];
  bodies.forEach((body, i) => {
    const full = records.add(100 + i, 0x1234, body);
    if (full !== null) cut.push(full);
  });
  assert.equal(records.size > 0, true);
  cut.push(records.take()!);
  assert.equal(records.take(), null, 'nothing left once taken');
  const frames = cut.flatMap((r) => decodeEntityFrames(r).frames.map((f) => f.slice()));
  const cells = cut.flatMap((r) => decodeEntityFrames(r).add);
  assert.deepEqual(cells, [100, 101, 102, 103, 104]);
  assert.deepEqual(frames, bodies.map((b) => encodeFrame(FrameKind.PUSH, 0x1234, 0, b)));
  for (const r of cut) {
    assert.ok(r.byteLength <= ENTITY_RECORD_BYTES, `a record of ${r.byteLength} bytes`);
    assert.deepEqual(decodeEntityFrames(r).remove, []);
  }
  // 3 + 40,000 + 50,000 bytes fit one record; the 60,000-byte frame would pass the limit: a new one.
  assert.deepEqual(cut.map((r) => decodeEntityFrames(r).add), [[100, 101, 102], [103, 104]], 'cut before the frame that would pass the limit');
  // The scratch buffer is reused: a record taken earlier is not changed by later frames.
  const first = cut[0]!.slice();
  records.add(1, 1, new Uint8Array(10).fill(0xee));
  records.clear();
  assert.deepEqual(cut[0], first);
  assert.equal(records.size, 0);
  // A frame larger than a record goes alone.
  const big = new CellRecords();
  big.add(1, 1, Uint8Array.of(1));
  const before = big.add(2, 1, new Uint8Array(ENTITY_RECORD_BYTES + 10));
  assert.equal(decodeEntityFrames(before!).frames.length, 1);
  assert.equal(decodeEntityFrames(big.take()!).frames[0]!.byteLength, FRAME_HEADER_BYTES + ENTITY_RECORD_BYTES + 10);
});

test('STATS figures: ticks and their replication round-trip; a scene without entities sends none; bad counts or durations are SCH_ERR_BAD_PAYLOAD', () => {
  assert.deepEqual(decodeTickFigures(encodeTickFigures({ ticks: [1.5, 2, 0], replication: [0.5, 1, 0] })), { ticks: [1.5, 2, 0], replication: [0.5, 1, 0] });
  assert.deepEqual(decodeTickFigures(encodeTickFigures({ ticks: [3], replication: null })), { ticks: [3], replication: null });
  assert.deepEqual(decodeTickFigures(encodeTickFigures({ ticks: [], replication: null })), { ticks: [], replication: null });
  assert.throws(() => encodeTickFigures({ ticks: [1, 2], replication: [1] }), RangeError);
  const f64 = (...v: number[]): Uint8Array => new Uint8Array(Float64Array.from(v).buffer);
  for (const bad of [new Uint8Array(0), new Uint8Array(12), f64(2, 0, 1), f64(1, 1, 1), f64(1.5, 0, 1), f64(-1, 0), f64(1, 2, 1), f64(1, 0, Number.NaN), f64(1, 0, -1), f64(1, 0, Number.POSITIVE_INFINITY)]) {
    assert.throws(() => decodeTickFigures(bad), badPayload, `${bad.byteLength} bytes: ${bad.byteLength % 8 === 0 ? [...new Float64Array(bad.slice().buffer)].join(",") : "ragged"}`);
  }
});

/**
 * The CELLS and INTEREST bodies (docs/aoi.md): frames travel back to back with their lengths;
 * decoding hands back views and refuses, with SCH_ERR_BAD_PAYLOAD, any body whose parts do not
 * add up (what a hostile or broken peer could send).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCodes, isCodedError } from '@gos/schema';
import { decodeCellsBody, decodeInterestBody, encodeCellsBody, encodeInterestBody } from '../src/index.js';
import { CellsBodyCodec, InterestBodyCodec } from '../src/generated/protocol.js';

const bad = (err: unknown): boolean => isCodedError(err) && err.code === ErrorCodes.SCH_ERR_BAD_PAYLOAD;
const f = (...bytes: number[]): Uint8Array => Uint8Array.from(bytes);

test('CELLS and INTEREST round-trip, frames as views in order', () => {
  const cells = decodeCellsBody(encodeCellsBody({ sceneId: 'field:1', cells: [1, 65537], frames: [f(1, 2, 3), f(4)] }));
  assert.deepEqual([cells.sceneId, cells.cells, cells.frames.map((x) => [...x])], ['field:1', [1, 65537], [[1, 2, 3], [4]]]);
  const interest = decodeInterestBody(encodeInterestBody({ sceneId: 'field:1', reset: true, add: [5], remove: [6, 7], frames: [f(9, 9)] }));
  assert.deepEqual([interest.reset, interest.add, interest.remove, interest.frames.map((x) => [...x])], [true, [5], [6, 7], [[9, 9]]]);
  assert.deepEqual(decodeInterestBody(encodeInterestBody({ sceneId: 's:1', add: [], remove: [], frames: [] })).frames, []);
});

test('bodies that do not add up are refused on both ends', () => {
  assert.throws(() => encodeCellsBody({ sceneId: '', cells: [1], frames: [f(1)] }), bad);
  assert.throws(() => encodeCellsBody({ sceneId: 's:1', cells: [1, 2], frames: [f(1)] }), bad);
  assert.throws(() => encodeInterestBody({ sceneId: 's:1', add: [], remove: [], frames: [f()] }), bad);
  // Built with the raw codecs, as a broken or hostile peer could.
  const lying = CellsBodyCodec.encode({ sceneId: 's:1', cells: [1], lengths: [10], frames: f(1, 2) });
  assert.throws(() => decodeCellsBody(lying), bad, 'lengths past the bytes');
  const short = InterestBodyCodec.encode({ sceneId: 's:1', add: [], remove: [], lengths: [1], frames: f(1, 2), reset: false });
  assert.throws(() => decodeInterestBody(short), bad, 'bytes left over');
  const count = CellsBodyCodec.encode({ sceneId: 's:1', cells: [1, 2], lengths: [2], frames: f(1, 2) });
  assert.throws(() => decodeCellsBody(count), bad, 'cells and frames of different counts');
  for (const garbage of [f(), f(1, 2, 3), new Uint8Array(64).fill(0xff)]) {
    assert.throws(() => decodeCellsBody(garbage), bad);
    assert.throws(() => decodeInterestBody(garbage), bad);
  }
});

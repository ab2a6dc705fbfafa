/**
 * The link bodies of entity replication (docs/aoi.md): CELLS, a tick's cell frames of one scene
 * for a gateway to publish by topic, and INTEREST, one player's change of cells with the frames
 * that go with it. Each carries several frames back to back in one `bytes` field with their
 * lengths beside it; decoding gives views into the body, checked to add up.
 */
import { CellsBodyCodec, InterestBodyCodec, type CellsBody, type InterestBody } from './generated/protocol.js';
import { decodeChecked, encodeChecked } from './messages.js';

/** A decoded CELLS body: `frames[i]` (a view into the body) goes to cell `cells[i]`. */
export interface SceneCells {
  readonly sceneId: string;
  readonly cells: readonly number[];
  readonly frames: readonly Uint8Array[];
}

/** A decoded INTEREST body: (with `reset`, drop every cell first,) subscribe to `add`, unsubscribe from `remove`, then send `frames` (views into the body) in order. */
export interface InterestChange {
  readonly sceneId: string;
  readonly reset?: boolean;
  readonly add: readonly number[];
  readonly remove: readonly number[];
  readonly frames: readonly Uint8Array[];
}

export type { CellsBody, InterestBody };

function join(frames: readonly Uint8Array[]): { lengths: number[]; bytes: Uint8Array } {
  let total = 0;
  for (const f of frames) total += f.byteLength;
  const bytes = new Uint8Array(total);
  const lengths: number[] = [];
  let at = 0;
  for (const f of frames) {
    bytes.set(f, at);
    at += f.byteLength;
    lengths.push(f.byteLength);
  }
  return { lengths, bytes };
}

function split(lengths: readonly number[], bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  for (const n of lengths) {
    out.push(bytes.subarray(at, at + n));
    at += n;
  }
  return out;
}

function framesRule(lengths: readonly number[], bytes: Uint8Array): string | null {
  let total = 0;
  for (const n of lengths) {
    if (n === 0) return 'a frame is empty';
    total += n;
  }
  return total === bytes.byteLength ? null : `frame lengths add up to ${total}, not the ${bytes.byteLength} bytes given`;
}

const cellsRule = (b: CellsBody): string | null =>
  b.sceneId === '' ? 'sceneId is empty' : b.cells.length !== b.lengths.length ? `${b.cells.length} cells but ${b.lengths.length} frames` : framesRule(b.lengths, b.frames);
const interestRule = (b: InterestBody): string | null => (b.sceneId === '' ? 'sceneId is empty' : framesRule(b.lengths, b.frames));

/** The body of `CELLS`. @throws CodedError `SCH_ERR_BAD_PAYLOAD` for an empty sceneId, an empty frame, or cells and frames of different counts. */
export function encodeCellsBody(body: SceneCells): Uint8Array {
  const { lengths, bytes } = join(body.frames);
  return encodeChecked(CellsBodyCodec, { sceneId: body.sceneId, cells: [...body.cells], lengths, frames: bytes }, cellsRule);
}

/** @throws CodedError `SCH_ERR_BAD_PAYLOAD` unless the bytes are a valid CELLS body. */
export function decodeCellsBody(bytes: Uint8Array): SceneCells {
  const b = decodeChecked(CellsBodyCodec, bytes, cellsRule);
  return { sceneId: b.sceneId, cells: b.cells, frames: split(b.lengths, b.frames) };
}

/** The body of `INTEREST`. @throws CodedError `SCH_ERR_BAD_PAYLOAD` for an empty sceneId or an empty frame. */
export function encodeInterestBody(body: InterestChange): Uint8Array {
  const { lengths, bytes } = join(body.frames);
  return encodeChecked(InterestBodyCodec, { sceneId: body.sceneId, add: [...body.add], remove: [...body.remove], lengths, frames: bytes, reset: body.reset === true }, interestRule);
}

/** @throws CodedError `SCH_ERR_BAD_PAYLOAD` unless the bytes are a valid INTEREST body. */
export function decodeInterestBody(bytes: Uint8Array): InterestChange {
  const b = decodeChecked(InterestBodyCodec, bytes, interestRule);
  return { sceneId: b.sceneId, reset: b.reset, add: b.add, remove: b.remove, frames: split(b.lengths, b.frames) };
}

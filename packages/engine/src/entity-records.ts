/**
 * The payload of the scene → main thread records of entity replication (CELLS, INTEREST):
 * `[u32 nAdd][u32 nRemove][u32 nFrames][u32 reset]`, the add and remove cells (u32 each), the
 * frame lengths (u32 each), then the frames back to back. For CELLS, `add[i]` is frame i's cell.
 */
import { FRAME_HEADER_BYTES, FrameKind } from '@gos/schema';

export interface EntityFrames {
  /** INTEREST: drop every cell of the scene first (a new connection's first view, a lost record). */
  readonly reset?: boolean;
  readonly add: readonly number[];
  readonly remove: readonly number[];
  /** On decode, views into the payload. */
  readonly frames: readonly Uint8Array[];
}

const HEAD = 16;

export function encodeEntityFrames(r: EntityFrames): Uint8Array {
  let bytes = 0;
  for (const f of r.frames) bytes += f.byteLength;
  const out = new Uint8Array(headBytes(r.add.length, r.remove.length, r.frames.length) + bytes);
  let at = writeHead(out, r.reset === true, r.add, r.remove, r.frames.length, (i) => r.frames[i]!.byteLength);
  for (const f of r.frames) {
    out.set(f, at);
    at += f.byteLength;
  }
  return out;
}

function headBytes(nAdd: number, nRemove: number, nFrames: number): number {
  return HEAD + 4 * (nAdd + nRemove + nFrames);
}

/** Write the counts, cells and frame lengths at the start of `out`; returns where the frames go. */
function writeHead(out: Uint8Array, reset: boolean, add: readonly number[], remove: readonly number[], nFrames: number, length: (i: number) => number): number {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let at = 0;
  const u32 = (v: number): void => {
    view.setUint32(at, v >>> 0, true);
    at += 4;
  };
  u32(add.length);
  u32(remove.length);
  u32(nFrames);
  u32(reset ? 1 : 0);
  for (const c of add) u32(c);
  for (const c of remove) u32(c);
  for (let i = 0; i < nFrames; i++) u32(length(i));
  return at;
}

/**
 * One tick's CELLS records, built frame by frame without a buffer per frame: each cell's frame is
 * written (its PUSH header, then its body) into one scratch buffer kept across ticks, and a
 * record is cut, one allocation and one copy, when the next frame would take it past
 * ENTITY_RECORD_BYTES (a larger frame goes alone).
 */
export class CellRecords {
  #scratch = new Uint8Array(64 * 1024);
  #bytes = 0;
  readonly #cells: number[] = [];
  readonly #lengths: number[] = [];

  /** Frames added since the last record was cut. */
  get size(): number {
    return this.#cells.length;
  }

  /**
   * Add cell `cell`'s frame: a client PUSH frame of opcode `push` around `body`. Returns the
   * record cut to make room for it, if one was.
   */
  add(cell: number, push: number, body: Uint8Array): Uint8Array | null {
    const n = FRAME_HEADER_BYTES + body.byteLength;
    const cut = this.#cells.length > 0 && headBytes(this.#cells.length, 0, this.#cells.length) + this.#bytes + n + 8 > ENTITY_RECORD_BYTES ? this.take() : null;
    if (this.#bytes + n > this.#scratch.byteLength) {
      const grown = new Uint8Array(Math.max(this.#scratch.byteLength * 2, this.#bytes + n));
      grown.set(this.#scratch.subarray(0, this.#bytes));
      this.#scratch = grown;
    }
    const at = this.#bytes;
    const s = this.#scratch;
    s[at] = FrameKind.PUSH;
    s[at + 1] = 0;
    s[at + 2] = push & 0xff;
    s[at + 3] = (push >>> 8) & 0xff;
    s[at + 4] = s[at + 5] = s[at + 6] = s[at + 7] = 0;
    s.set(body, at + FRAME_HEADER_BYTES);
    this.#bytes += n;
    this.#cells.push(cell);
    this.#lengths.push(n);
    return cut;
  }

  /** The record of the frames added since the last one (`add` = their cells), or null for none; starts a new one. */
  take(): Uint8Array | null {
    const nFrames = this.#cells.length;
    if (nFrames === 0) return null;
    const out = new Uint8Array(headBytes(nFrames, 0, nFrames) + this.#bytes);
    const lengths = this.#lengths;
    const at = writeHead(out, false, this.#cells, [], nFrames, (i) => lengths[i]!);
    out.set(this.#scratch.subarray(0, this.#bytes), at);
    this.#cells.length = 0;
    this.#lengths.length = 0;
    this.#bytes = 0;
    return out;
  }

  /** Drop what was added since the last record (a failed tick). */
  clear(): void {
    this.#cells.length = 0;
    this.#lengths.length = 0;
    this.#bytes = 0;
  }
}

/** @throws RangeError when the counts and lengths do not fit the payload. */
export function decodeEntityFrames(payload: Uint8Array): EntityFrames {
  if (payload.byteLength < HEAD) throw new RangeError(`entity frames record of ${payload.byteLength} bytes`);
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const nAdd = view.getUint32(0, true);
  const nRemove = view.getUint32(4, true);
  const nFrames = view.getUint32(8, true);
  const reset = view.getUint32(12, true) === 1;
  let at = HEAD;
  const need = HEAD + 4 * (nAdd + nRemove + nFrames);
  if (need > payload.byteLength) throw new RangeError(`entity frames record: ${nAdd + nRemove + nFrames} words do not fit ${payload.byteLength} bytes`);
  const read = (n: number): number[] => {
    const out: number[] = [];
    for (let i = 0; i < n; i++, at += 4) out.push(view.getUint32(at, true));
    return out;
  };
  const add = read(nAdd);
  const remove = read(nRemove);
  const lengths = read(nFrames);
  const frames: Uint8Array[] = [];
  for (const n of lengths) {
    if (at + n > payload.byteLength) throw new RangeError('entity frames record: a frame runs past the payload');
    frames.push(payload.subarray(at, at + n));
    at += n;
  }
  return { reset, add, remove, frames };
}

/** Records stay below this: well inside what the ring and the link carry. */
export const ENTITY_RECORD_BYTES = 128 * 1024;

/** Index ranges of `frames` whose bytes stay under ENTITY_RECORD_BYTES (a larger frame alone); one empty range for none. */
export function chunkFrames(frames: readonly Uint8Array[]): { from: number; to: number }[] {
  const out: { from: number; to: number }[] = [];
  let from = 0;
  let bytes = 0;
  for (let i = 0; i < frames.length; i++) {
    const n = frames[i]!.byteLength;
    if (i > from && bytes + n > ENTITY_RECORD_BYTES) {
      out.push({ from, to: i });
      from = i;
      bytes = 0;
    }
    bytes += n;
  }
  out.push({ from, to: frames.length });
  return out;
}

/**
 * The payload of the scene → main thread records of entity replication (CELLS, INTEREST):
 * `[u32 nAdd][u32 nRemove][u32 nFrames][u32 reset]`, the add and remove cells (u32 each), the
 * frame lengths (u32 each), then the frames back to back. For CELLS, `add[i]` is frame i's cell.
 */
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
  const words = 4 + r.add.length + r.remove.length + r.frames.length;
  const out = new Uint8Array(words * 4 + bytes);
  const view = new DataView(out.buffer);
  let at = 0;
  const u32 = (v: number): void => {
    view.setUint32(at, v >>> 0, true);
    at += 4;
  };
  u32(r.add.length);
  u32(r.remove.length);
  u32(r.frames.length);
  u32(r.reset === true ? 1 : 0);
  for (const c of r.add) u32(c);
  for (const c of r.remove) u32(c);
  for (const f of r.frames) u32(f.byteLength);
  for (const f of r.frames) {
    out.set(f, at);
    at += f.byteLength;
  }
  return out;
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

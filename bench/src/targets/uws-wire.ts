/**
 * The bare uWebSockets.js target's hand-made binary encoding, little-endian:
 *   client → server  MOVE     [u8 1][u32 seq][f32 x][f32 y]                          13 bytes
 *   server → client  WELCOME  [u8 1][u32 id]                                          5 bytes
 *   server → client  TICK     [u8 2][f64 serverTime][u16 n] n × [u32 id][f32 x][f32 y][u32 ack]
 *   client → server  SAY      [u8 3][f64 sentAt][utf-8 text]                          (chat-fanout)
 *   server → client  CHAT     [u8 3][f64 sentAt][u32 from][utf-8 text]
 */
export const MOVE = 1;
export const WELCOME = 1;
export const TICK = 2;
export const SAY = 3;
export const CHAT = 3;
export const MOVE_BYTES = 13;
export const TICK_HEADER_BYTES = 11;
export const TICK_ENTRY_BYTES = 16;

export function encodeMove(seq: number, x: number, y: number): Uint8Array {
  const b = new Uint8Array(MOVE_BYTES);
  const v = new DataView(b.buffer);
  v.setUint8(0, MOVE);
  v.setUint32(1, seq >>> 0, true);
  v.setFloat32(5, x, true);
  v.setFloat32(9, y, true);
  return b;
}

/** The move in `buf`, or null when it is not a well-formed move. */
export function decodeMove(buf: ArrayBuffer): { seq: number; x: number; y: number } | null {
  return decodeMoveAt(new DataView(buf), 0, buf.byteLength);
}

/** The move in the `length` bytes at `offset` of `v`, or null when they are not a well-formed move. */
export function decodeMoveAt(v: DataView, offset: number, length: number): { seq: number; x: number; y: number } | null {
  if (length !== MOVE_BYTES || v.getUint8(offset) !== MOVE) return null;
  return { seq: v.getUint32(offset + 1, true), x: v.getFloat32(offset + 5, true), y: v.getFloat32(offset + 9, true) };
}

export function encodeWelcome(id: number): Uint8Array {
  const b = new Uint8Array(5);
  b[0] = WELCOME;
  new DataView(b.buffer).setUint32(1, id, true);
  return b;
}

export interface TickEntry {
  id: number;
  x: number;
  y: number;
  ack: number;
}

export function encodeTick(serverTime: number, entries: readonly TickEntry[]): Uint8Array {
  const b = new Uint8Array(TICK_HEADER_BYTES + entries.length * TICK_ENTRY_BYTES);
  const v = new DataView(b.buffer);
  v.setUint8(0, TICK);
  v.setFloat64(1, serverTime, true);
  v.setUint16(9, entries.length, true);
  let o = TICK_HEADER_BYTES;
  for (const e of entries) {
    v.setUint32(o, e.id, true);
    v.setFloat32(o + 4, e.x, true);
    v.setFloat32(o + 8, e.y, true);
    v.setUint32(o + 12, e.ack, true);
    o += TICK_ENTRY_BYTES;
  }
  return b;
}

/** Find `id`'s ack in a TICK: the server time and that ack (-1 when `id` is not in it), or null for another message. */
export function readTick(v: DataView, id: number): { serverTime: number; ack: number; players: number } | null {
  if (v.byteLength < TICK_HEADER_BYTES || v.getUint8(0) !== TICK) return null;
  const n = v.getUint16(9, true);
  if (v.byteLength < TICK_HEADER_BYTES + n * TICK_ENTRY_BYTES) return null;
  let ack = -1;
  for (let i = 0, o = TICK_HEADER_BYTES; i < n; i++, o += TICK_ENTRY_BYTES) {
    if (v.getUint32(o, true) === id) {
      ack = v.getUint32(o + 12, true);
      break;
    }
  }
  return { serverTime: v.getFloat64(1, true), ack, players: n };
}

export function encodeSay(sentAt: number, text: string): Uint8Array {
  const t = new TextEncoder().encode(text);
  const b = new Uint8Array(9 + t.byteLength);
  b[0] = SAY;
  new DataView(b.buffer).setFloat64(1, sentAt, true);
  b.set(t, 9);
  return b;
}

/** The CHAT line for a SAY from player `from`, or null when `buf` is not a SAY. */
export function chatFromSay(buf: ArrayBuffer, from: number): Uint8Array | null {
  if (buf.byteLength < 9 || buf.byteLength > 9 + 200) return null;
  const say = new Uint8Array(buf);
  if (say[0] !== SAY) return null;
  const out = new Uint8Array(buf.byteLength + 4);
  out.set(say.subarray(0, 9), 0);
  new DataView(out.buffer).setUint32(9, from, true);
  out.set(say.subarray(9), 13);
  return out;
}

/** The sender's timestamp of a CHAT line, or null for another message. */
export function chatSentAt(v: DataView): number | null {
  return v.byteLength >= 13 && v.getUint8(0) === CHAT ? v.getFloat64(1, true) : null;
}

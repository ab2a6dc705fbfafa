import { CodedError, ErrorCodes } from '@gos/schema';

/**
 * Link frame layout (all integers little-endian):
 *
 * ```
 * offset 0  u32  length of the rest of the frame (5 + body length)
 * offset 4  u8   type     (0–15 reserved for the link itself, 16–255 for upper layers)
 * offset 5  u32  channel  (upper-layer meaning; a connection id for the gateway/engine protocol)
 * offset 9  ...  body
 * ```
 */
export const LINK_FRAME_HEADER_BYTES = 9;
/** Bytes of the length prefix. */
const LENGTH_BYTES = 4;
/** Bytes counted by the length prefix that are not body: type + channel. */
const TYPE_CHANNEL_BYTES = 5;

/** Highest frame type the link reserves for itself; upper-layer types start at {@link FIRST_USER_TYPE}. */
export const RESERVED_TYPE_MAX = 15;
/** First frame type available to upper layers. */
export const FIRST_USER_TYPE = 16;

/** Frame types used by the link itself (all ≤ {@link RESERVED_TYPE_MAX}). 0 is never valid. */
export const LinkFrameType = {
  /** client → server: `[u8 version][32 client nonce][u8 id length][client node id]` */
  HELLO: 1,
  /** server → client: `[u8 version][32 server nonce][32 server proof][u8 id length][server node id]` */
  CHALLENGE: 2,
  /** client → server: `[32 client proof]` */
  PROOF: 3,
  /** server → client: empty; the link is up */
  READY: 4,
  /** either way during the handshake: utf8 reason; the sender closes */
  REJECT: 5,
  /** either way: channel = sequence number; empty body */
  PING: 8,
  /** answer to PING, echoing its channel */
  PONG: 9,
} as const;
export type LinkFrameType = (typeof LinkFrameType)[keyof typeof LinkFrameType];

/** Write a frame header at `offset` of `target`. The caller has checked the sizes. */
export function writeFrameHeader(target: Buffer, offset: number, type: number, channel: number, bodyBytes: number): void {
  target.writeUInt32LE(TYPE_CHANNEL_BYTES + bodyBytes, offset);
  target[offset + 4] = type;
  target.writeUInt32LE(channel, offset + 5);
}

/** Encode one whole frame into a new buffer (handshake, tests; the hot path writes in place). */
export function encodeLinkFrame(type: number, channel: number, body: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(LINK_FRAME_HEADER_BYTES + body.byteLength);
  writeFrameHeader(frame, 0, type, channel, body.byteLength);
  frame.set(body, LINK_FRAME_HEADER_BYTES);
  return frame;
}

/** One parsed frame. `body` is a view: see {@link FrameParser.next} for how long it stays valid. */
export interface LinkFrame {
  readonly type: number;
  readonly channel: number;
  readonly body: Buffer;
}

/**
 * Incremental frame parser. Chunks are kept as a list and never concatenated as a whole: a
 * frame that lies inside one chunk is returned as a view of it (no copy), a frame spanning
 * chunks is copied once into a buffer of exactly its size. Every received byte is therefore
 * copied at most once, whatever the chunking (1-byte chunks included).
 */
export class FrameParser {
  /** Unconsumed chunks; `#chunks[#head]` is the oldest, read from `#offset`. */
  #chunks: Buffer[] = [];
  #head = 0;
  #offset = 0;
  #buffered = 0;
  #maxFrameBytes: number;

  /** @param maxFrameBytes the largest whole frame (header included) accepted. */
  constructor(maxFrameBytes: number) {
    this.#maxFrameBytes = maxFrameBytes;
  }

  /** Bytes received and not yet returned as frames. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  get maxFrameBytes(): number {
    return this.#maxFrameBytes;
  }

  /** Changed once by the connection when the handshake completes (small limit before it). */
  set maxFrameBytes(value: number) {
    this.#maxFrameBytes = value;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
  }

  /**
   * The next complete frame, or `null` when more bytes are needed. The body is a view of a
   * received chunk or of a private copy; neither is reused, so it may be retained (retaining a
   * small view keeps its whole chunk, up to 64 KiB, alive: copy it to keep many for long).
   * @throws CodedError `LNK_ERR_FRAME_TOO_LARGE` as soon as a header announces more than
   *   `maxFrameBytes`; `SCH_ERR_BAD_FRAME` for a length too short to hold type and channel.
   *   The parser is unusable after throwing: the stream has lost its framing.
   */
  next(): LinkFrame | null {
    if (this.#buffered < LENGTH_BYTES) return null;
    const length = this.#peekUInt32LE();
    if (length < TYPE_CHANNEL_BYTES) {
      throw new CodedError(ErrorCodes.SCH_ERR_BAD_FRAME, `link frame length ${length} is shorter than its header`);
    }
    const total = LENGTH_BYTES + length;
    if (total > this.#maxFrameBytes) {
      throw new CodedError(
        ErrorCodes.LNK_ERR_FRAME_TOO_LARGE,
        `link frame of ${total} bytes exceeds maxFrameBytes ${this.#maxFrameBytes}`,
      );
    }
    if (this.#buffered < total) return null;
    const frame = this.#take(total);
    return { type: frame[4]!, channel: frame.readUInt32LE(5), body: frame.subarray(LINK_FRAME_HEADER_BYTES) };
  }

  #peekUInt32LE(): number {
    const first = this.#chunks[this.#head]!;
    if (first.length - this.#offset >= LENGTH_BYTES) return first.readUInt32LE(this.#offset);
    // The prefix straddles chunks: gather its 4 bytes without consuming them.
    let value = 0;
    let chunkIndex = this.#head;
    let at = this.#offset;
    for (let i = 0; i < LENGTH_BYTES; i++) {
      let chunk = this.#chunks[chunkIndex]!;
      while (at >= chunk.length) {
        chunk = this.#chunks[++chunkIndex]!;
        at = 0;
      }
      value += chunk[at++]! * 2 ** (8 * i);
    }
    return value;
  }

  #take(total: number): Buffer {
    const first = this.#chunks[this.#head]!;
    const available = first.length - this.#offset;
    if (available >= total) {
      const view = first.subarray(this.#offset, this.#offset + total);
      this.#offset += total;
      if (this.#offset === first.length) this.#dropHead();
      this.#buffered -= total;
      return view;
    }
    const out = Buffer.allocUnsafe(total);
    let written = 0;
    while (written < total) {
      const chunk = this.#chunks[this.#head]!;
      const n = Math.min(chunk.length - this.#offset, total - written);
      chunk.copy(out, written, this.#offset, this.#offset + n);
      written += n;
      this.#offset += n;
      if (this.#offset === chunk.length) this.#dropHead();
    }
    this.#buffered -= total;
    return out;
  }

  #dropHead(): void {
    this.#chunks[this.#head] = EMPTY;
    this.#head++;
    this.#offset = 0;
    // Advancing an index instead of shift() keeps consumption O(1); compact now and then.
    if (this.#head === this.#chunks.length) {
      this.#chunks = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#chunks.length) {
      this.#chunks = this.#chunks.slice(this.#head);
      this.#head = 0;
    }
  }
}

const EMPTY = Buffer.alloc(0);

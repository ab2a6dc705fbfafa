/**
 * Client wire format: every binary WebSocket message is one frame.
 *
 *   offset 0  u8   kind        FrameKind
 *   offset 1  u8   flags       FrameFlag bits (REQUEST: NO_REPLY); every other bit reserved, 0
 *   offset 2  u16  opcode      route id (REQUEST/RESPONSE/ERROR) or push id (PUSH), little-endian
 *   offset 4  u32  requestId   client-chosen correlation id; 0 for pushes, little-endian
 *   offset 8  ...  payload     a FlatBuffer (ERROR: core ErrorReply)
 *
 * The gateway reads only the header; the payload is decoded by the scene on the engine.
 */
export const FRAME_HEADER_BYTES = 8;

export const FrameKind = {
  REQUEST: 1,
  RESPONSE: 2,
  ERROR: 3,
  PUSH: 4,
  PING: 5,
  PONG: 6,
} as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

/** Whether a byte is a FrameKind, by value: one array index per frame instead of a Set lookup. */
const IS_KIND = (() => {
  const table = new Uint8Array(256);
  for (const kind of Object.values(FrameKind)) table[kind] = 1;
  return table;
})();

/**
 * Bits of the header's flags byte. Every bit not defined here for a frame's kind is reserved:
 * it must be 0, and the gateway closes a socket that sends one set with BAD_FRAME.
 */
export const FrameFlag = {
  /**
   * On a REQUEST: the client wants no RESPONSE (fire-and-forget inputs such as moves, acked by
   * game state instead). Errors still come back as ERROR frames with the request's id.
   */
  NO_REPLY: 1,
} as const;

/** The flag bits a client frame of `kind` may set: NO_REPLY on a REQUEST, none on anything else. */
export function allowedFrameFlags(kind: FrameKind): number {
  return kind === FrameKind.REQUEST ? FrameFlag.NO_REPLY : 0;
}

export interface FrameHeader {
  readonly kind: FrameKind;
  readonly flags: number;
  readonly opcode: number;
  readonly requestId: number;
}

/** Default largest client frame, header included. The gateway's `maxFrameBytes` overrides it. */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024;

/**
 * WebSocket close codes sent by the gateway. 4000–4999 are application codes; the client SDK
 * uses them to decide whether to reconnect.
 */
export const CloseCode = {
  /** No token in the upgrade request. Do not retry without logging in. */
  AUTH_REQUIRED: 4001,
  /** Token unknown, revoked or expired. Log in again. */
  AUTH_INVALID: 4002,
  /** Client protocol version differs from the server's. Update the client. */
  PROTOCOL_VERSION: 4003,
  /** The same player connected again (a new login or another tab). Do not reconnect. */
  SESSION_REPLACED: 4004,
  /** No frame (not even a PING) within the idle timeout. */
  IDLE_TIMEOUT: 4005,
  /** Frame rate over the per-socket limit. */
  RATE_LIMITED: 4006,
  /** Outgoing buffer over the per-socket limit: the client reads too slowly. */
  SLOW_CONSUMER: 4007,
  /** Header shorter than 8 bytes, unknown or server-only kind, a reserved flag bit set, or a text frame. */
  BAD_FRAME: 4008,
  /** Frame larger than the gateway's maxFrameBytes. */
  FRAME_TOO_LARGE: 4009,
  /** The gateway is shutting down; reconnect (possibly to another gateway). */
  SERVER_SHUTDOWN: 4010,
  /** The engine hosting the player's scene could not be reached; reconnect later. */
  ENGINE_UNAVAILABLE: 4011,
  /** The scene refused the player (e.g. join failed). */
  JOIN_FAILED: 4012,
  /**
   * The player's unsaved state was dropped (its write was refused: a mail claim that could not be
   * made, docs/mail.md); reconnect: the player loads its saved state.
   */
  STATE_RELOAD: 4013,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Close codes after which the client SDK must not reconnect automatically. */
export const NO_RECONNECT_CLOSE_CODES: ReadonlySet<number> = new Set([
  CloseCode.AUTH_REQUIRED,
  CloseCode.AUTH_INVALID,
  CloseCode.PROTOCOL_VERSION,
  CloseCode.SESSION_REPLACED,
  CloseCode.BAD_FRAME,
  CloseCode.FRAME_TOO_LARGE,
  CloseCode.RATE_LIMITED,
]);

export function encodeFrame(kind: FrameKind, opcode: number, requestId: number, payload: Uint8Array | null, flags = 0): Uint8Array {
  const len = payload === null ? 0 : payload.byteLength;
  const out = new Uint8Array(FRAME_HEADER_BYTES + len);
  // Byte by byte: a DataView per frame costs a runtime call (and `.buffer` of a small array
  // allocated on the heap moves its bytes off the heap).
  out[0] = kind;
  out[1] = flags;
  out[2] = opcode & 0xff;
  out[3] = (opcode >>> 8) & 0xff;
  out[4] = requestId & 0xff;
  out[5] = (requestId >>> 8) & 0xff;
  out[6] = (requestId >>> 16) & 0xff;
  out[7] = (requestId >>> 24) & 0xff;
  if (payload !== null) out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

/** Read a frame header, or return null when the bytes are not a valid frame header. */
export function readFrameHeader(bytes: Uint8Array): FrameHeader | null {
  if (bytes.byteLength < FRAME_HEADER_BYTES) return null;
  const kind = bytes[0]!;
  if (IS_KIND[kind] !== 1) return null;
  return {
    kind: kind as FrameKind,
    flags: bytes[1]!,
    opcode: bytes[2]! | (bytes[3]! << 8),
    requestId: (bytes[4]! | (bytes[5]! << 8) | (bytes[6]! << 16) | (bytes[7]! << 24)) >>> 0,
  };
}

export function framePayload(bytes: Uint8Array): Uint8Array {
  return bytes.subarray(FRAME_HEADER_BYTES);
}

/** Query parameter names of the WebSocket upgrade URL: `/ws?token=…&v=…`. */
export const WS_PATH = '/ws';
export const WS_QUERY_TOKEN = 'token';
export const WS_QUERY_VERSION = 'v';
